import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, for a process the test starts later.
 *
 * It is chosen below the kernel's ephemeral range on purpose. A port the kernel hands out for
 * `listen(0)` comes from that range, and so does the local port of every outgoing connection: in
 * the seconds before a child process binds the port it was given, one of the many connections the
 * other processes open (Kafka clients, database pools, health probes) may take it, and the child
 * fails with EADDRINUSE. Below the range only listeners compete, and each port is handed out once
 * per test process.
 */
export async function freePort(): Promise<number> {
  const [first, last] = (range ??= candidateRange());
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = first + Math.floor(Math.random() * (last - first + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the check, so concurrent calls never pick the same port
    if (await canListen(port)) return port;
    handedOut.delete(port);
  }
  throw new Error(`freePort: no free port found between ${first} and ${last} in 200 attempts`);
}

const handedOut = new Set<number>();
let range: [number, number] | undefined;

/** Ports below the ephemeral range (from /proc where Linux has it), above the well-known services. */
function candidateRange(): [number, number] {
  let ephemeralStart = 32_768;
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low)) ephemeralStart = low!;
  } catch {
    // Not Linux: the IANA ephemeral range starts at 49152, so 32768 is below it too.
  }
  const first = 12_000;
  return ephemeralStart - 1 > first + 1_000 ? [first, ephemeralStart - 1] : [1_024, 65_535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

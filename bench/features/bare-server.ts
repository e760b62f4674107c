// The floor of the lookup benchmark: a bare Node HTTP server that reads a POSTed JSON body,
// parses it and answers fixed bytes (a real answer of the online server), with no lookup behind
// it. Run by main.ts pinned to the core the feature store uses and at the online server's
// priority (nice -10 where allowed), its latency is what this machine, this client and Node's
// HTTP/1.1 cost before any feature store work: `node -r @swc-node/register bare-server.ts <port> <body file>`.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { setPriority } from 'node:os';

const [port, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile!);
try {
  setPriority(-10);
} catch {
  // Without CAP_SYS_NICE it runs at the default priority; main.ts prints the priority it got.
}
createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    response.end(body);
  });
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));

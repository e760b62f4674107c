import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

const colours = [36, 32, 33, 35, 34, 96, 92, 93, 95];

/**
 * Streams the growth of several log files to the terminal, each line prefixed with its source.
 * Services write to files rather than to pipes of ours, so they survive this command exiting
 * (and `loopline up` can be run again to reattach).
 */
export class LogTail {
  private readonly offsets = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: readonly { name: string; file: string }[],
    private readonly write: (text: string) => void = (text) => process.stdout.write(text),
  ) {
    // Start at the current end: history is in the files, the terminal shows what happens now.
    for (const { file } of sources) this.offsets.set(file, existsSync(file) ? statSync(file).size : 0);
  }

  start(intervalMs = 250): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.poll();
  }

  private poll(): void {
    const width = Math.max(...this.sources.map((source) => source.name.length));
    this.sources.forEach(({ name, file }, index) => {
      const text = this.readNew(file);
      if (!text) return;
      const prefix = `\x1b[${colours[index % colours.length]}m${name.padEnd(width)} |\x1b[0m `;
      for (const line of text.split('\n')) if (line.trim()) this.write(prefix + formatLogLine(line) + '\n');
    });
  }

  private readNew(file: string): string {
    if (!existsSync(file)) return '';
    const offset = this.offsets.get(file) ?? 0;
    const size = statSync(file).size;
    if (size <= offset) return '';
    // Read only whole lines; a partial last line waits for the next poll.
    const buffer = Buffer.alloc(size - offset);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, offset);
    } finally {
      closeSync(fd);
    }
    const end = buffer.lastIndexOf(0x0a) + 1;
    this.offsets.set(file, offset + end);
    return buffer.subarray(0, end).toString('utf8');
  }
}

/** Pino JSON lines become `LEVEL message key=value…`; anything else passes through. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, service: _service, ...rest } = entry;
    const levelName = typeof level === 'number' ? pinoLevel(level) : String(level ?? 'info');
    const extras = Object.entries(rest)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    return `${levelName.toUpperCase().padEnd(5)} ${String(msg ?? '')}${extras ? `  ${extras}` : ''}`;
  } catch {
    return line;
  }
}

function pinoLevel(level: number): string {
  if (level >= 60) return 'fatal';
  if (level >= 50) return 'error';
  if (level >= 40) return 'warn';
  if (level >= 30) return 'info';
  if (level >= 20) return 'debug';
  return 'trace';
}

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { LogMessage, PredictionSpool, SpoolRecord } from '../../application/prediction-log';

/**
 * The prediction spool on local disk: one append-only file of records and a cursor file saying
 * how far the records were delivered.
 *
 * Record: `[length u32 LE][crc32 u32 LE][JSON]`. `append` writes and fsyncs before it resolves, so
 * a spooled batch survives a crash of the process. `ack` advances the cursor (written to a temporary
 * file, fsynced, renamed over the old one); once every record is delivered both files are reset.
 * A torn record at the tail (the process died mid-write) fails its length or checksum and is cut
 * off at open: it was never acknowledged as spooled.
 *
 * One process per folder: a lock file holding the owner's pid guards it.
 */
export class FileSpool implements PredictionSpool {
  private readonly dataPath: string;
  private readonly cursorPath: string;
  private readonly lockPath: string;
  private file: FileHandle | undefined;
  private readOffset = 0;
  private endOffset = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    this.dataPath = join(dir, 'predictions.spool');
    this.cursorPath = join(dir, 'predictions.cursor');
    this.lockPath = join(dir, 'owner.pid');
  }

  /** Opens (or creates) the spool in `dir`; recovers its state after a crash. */
  static async open(dir: string, maxBytes: number): Promise<FileSpool> {
    const spool = new FileSpool(dir, maxBytes);
    await spool.recover();
    return spool;
  }

  get isEmpty(): boolean {
    return this.readOffset >= this.endOffset;
  }

  get sizeBytes(): number {
    return this.endOffset - this.readOffset;
  }

  async append(record: SpoolRecord): Promise<boolean> {
    const file = this.handle();
    const payload = Buffer.from(JSON.stringify(encodeRecord(record)), 'utf8');
    if (this.endOffset - this.readOffset + payload.length + 8 > this.maxBytes) return false;
    const header = Buffer.alloc(8);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    const frame = Buffer.concat([header, payload]);
    await file.write(frame, 0, frame.length, this.endOffset);
    await file.sync();
    this.endOffset += frame.length;
    return true;
  }

  async head(): Promise<SpoolRecord | undefined> {
    if (this.isEmpty) return undefined;
    const frame = await this.readFrame(this.readOffset);
    if (!frame) throw new Error(`spool ${this.dataPath} is corrupt at offset ${this.readOffset}`);
    return decodeRecord(JSON.parse(frame.payload.toString('utf8')) as StoredRecord);
  }

  async ack(): Promise<void> {
    if (this.isEmpty) return;
    const frame = await this.readFrame(this.readOffset);
    if (!frame) throw new Error(`spool ${this.dataPath} is corrupt at offset ${this.readOffset}`);
    this.readOffset += frame.size;
    if (this.isEmpty) {
      // Everything delivered: start both files afresh (cursor first, so a crash in between leaves
      // a cursor of 0 over an empty or fully delivered file, never a cursor past the end).
      this.writeCursor(0);
      await this.handle().truncate(0);
      await this.handle().sync();
      this.readOffset = 0;
      this.endOffset = 0;
      return;
    }
    this.writeCursor(this.readOffset);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file?.close();
    this.file = undefined;
    rmSync(this.lockPath, { force: true });
  }

  private async recover(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.lock();
    this.file = await open(this.dataPath, existsSync(this.dataPath) ? 'r+' : 'w+');
    const size = (await this.file.stat()).size;
    let cursor = existsSync(this.cursorPath) ? Number(readFileSync(this.cursorPath, 'utf8').trim()) : 0;
    if (!Number.isSafeInteger(cursor) || cursor < 0 || cursor > size) cursor = 0;
    // Walk the records after the cursor; the first one that does not check out ends the spool.
    let offset = cursor;
    while (offset < size) {
      const frame = await this.readFrame(offset, size);
      if (!frame) break;
      offset += frame.size;
    }
    if (offset < size) {
      await this.file.truncate(offset);
      await this.file.sync();
    }
    this.readOffset = cursor;
    this.endOffset = offset;
  }

  private async readFrame(offset: number, size = this.endOffset): Promise<{ payload: Buffer; size: number } | undefined> {
    if (offset + 8 > size) return undefined;
    const header = Buffer.alloc(8);
    await this.handle().read(header, 0, 8, offset);
    const length = header.readUInt32LE(0);
    if (offset + 8 + length > size) return undefined;
    const payload = Buffer.alloc(length);
    await this.handle().read(payload, 0, length, offset + 8);
    if (crc32(payload) !== header.readUInt32LE(4)) return undefined;
    return { payload, size: 8 + length };
  }

  private writeCursor(offset: number): void {
    const temporary = `${this.cursorPath}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeFileSync(fd, String(offset));
      // fsync through the descriptor: the rename must not overtake the data.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.cursorPath);
  }

  private lock(): void {
    if (existsSync(this.lockPath)) {
      const owner = Number(readFileSync(this.lockPath, 'utf8').trim());
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new Error(`the prediction spool ${this.dir} is in use by process ${owner}; give each serving process its own LOOPLINE_DATA_DIR`);
      }
    }
    writeFileSync(this.lockPath, String(process.pid));
  }

  private handle(): FileHandle {
    if (!this.file) throw new Error('the spool is closed');
    return this.file;
  }
}

interface StoredRecord {
  readonly firstAttemptAt: number | null;
  readonly messages: readonly { id: string; key: string; value: string; headers: Record<string, string>; timestamp: string }[];
}

function encodeRecord(record: SpoolRecord): StoredRecord {
  return {
    firstAttemptAt: record.firstAttemptAt,
    messages: record.messages.map((message) => ({ id: message.id, key: message.key, value: message.value.toString('base64'), headers: { ...message.headers }, timestamp: message.timestamp })),
  };
}

function decodeRecord(stored: StoredRecord): SpoolRecord {
  return {
    firstAttemptAt: stored.firstAttemptAt,
    messages: stored.messages.map((message): LogMessage => ({ ...message, value: Buffer.from(message.value, 'base64') })),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

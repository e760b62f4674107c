import { randomBytes } from 'node:crypto';

/** A name no other test in this run uses: for databases, topics, consumer groups. */
export function uniqueName(prefix: string): string {
  const safe = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `${safe}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

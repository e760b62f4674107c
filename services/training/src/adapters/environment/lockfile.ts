import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** SHA-256 of a lockfile (package-lock.json, requirements.txt); empty when it cannot be read. */
export function lockfileSha256(path: string | undefined): string {
  if (!path) return '';
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return '';
  }
}

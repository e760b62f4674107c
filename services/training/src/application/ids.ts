import { createHash } from 'node:crypto';

/**
 * A UUID derived from text (its SHA-256 shaped as an RFC 4122 variant, version nibble 5), for ids
 * that must come out the same on a retry: the run of a task command, the trials of a search.
 */
export function deterministicId(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

import { createHash, randomBytes } from 'node:crypto';

/** A random secret: `prefix` + 256 bits in base64url (43 characters). */
export function randomSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 in hex. Right for secrets of 256 random bits (refresh and personal access tokens): nothing to
 * guess, so a slow hash would only cost time on every request.
 */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Opaque secrets (refresh tokens, client secrets): 32 random bytes, base64url, with a prefix that
 * secret scanners can match. Only their sha-256 is stored: with 256 bits of entropy a fast hash
 * is safe, and it lets the database find the row by hash with a unique index.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const REFRESH_TOKEN_PREFIX = 'nyr_';
export const CLIENT_SECRET_PREFIX = 'nys_';

export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

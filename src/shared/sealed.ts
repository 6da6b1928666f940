/**
 * Secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from a configured secret, with a
 * salt and info per purpose so that one configured secret never wraps two kinds of data with the same
 * key. Used for the service's own JWT signing keys and for webhook signing secrets.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface Sealed {
  /** base64url of the 12-byte nonce, the 16-byte tag and the ciphertext. */
  iv: string;
  tag: string;
  data: string;
}

export interface SealPurpose {
  salt: string;
  info: string;
}

const wrappingKey = (secret: string, purpose: SealPurpose) =>
  Buffer.from(hkdfSync('sha256', secret, purpose.salt, purpose.info, 32));

export function sealBytes(plain: Buffer, secret: string, purpose: SealPurpose): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey(secret, purpose), iv);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  return {
    iv: iv.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
    data: data.toString('base64url'),
  };
}

/** Throws when the secret is not the one that sealed it, or the envelope was altered. */
export function openBytes(sealed: Sealed, secret: string, purpose: SealPurpose): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', wrappingKey(secret, purpose), Buffer.from(sealed.iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]);
}

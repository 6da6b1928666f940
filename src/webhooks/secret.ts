/**
 * Webhook signing secrets and signatures, per the Standard Webhooks specification
 * (https://www.standardwebhooks.com): a secret is "whsec_" + base64 of 32 random bytes, and a message is
 * signed as `v1,` + base64(HMAC-SHA256(key bytes, "{webhook-id}.{webhook-timestamp}.{body}")). During a
 * rotation both secrets sign, space-separated, so a receiver holding either one accepts the delivery.
 *
 * At rest a secret is sealed with AES-256-GCM when JWT_KEY_ENCRYPTION_SECRET is set ("sealed:" + JSON of the
 * envelope); without it the secret is stored as it is, like every other row of the database it protects
 * access to (the same choice as the service's own signing keys, and said so in the README).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { openBytes, sealBytes } from '../shared/sealed.js';
import type { Sealed, SealPurpose } from '../shared/sealed.js';

const PREFIX = 'whsec_';
const SEALED = 'sealed:';
const PURPOSE: SealPurpose = { salt: 'nysana-webhooks', info: 'signing-secret-v1' };

export function newSigningSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

export function sealSecret(secret: string, encryptionSecret: string | undefined): string {
  if (!encryptionSecret) return secret;
  return SEALED + JSON.stringify(sealBytes(Buffer.from(secret, 'utf8'), encryptionSecret, PURPOSE));
}

export class SecretUnavailable extends Error {}

export function openSecret(stored: string, encryptionSecret: string | undefined): string {
  if (!stored.startsWith(SEALED)) return stored;
  if (!encryptionSecret) throw new SecretUnavailable('a webhook secret is sealed; set JWT_KEY_ENCRYPTION_SECRET');
  try {
    return openBytes(JSON.parse(stored.slice(SEALED.length)) as Sealed, encryptionSecret, PURPOSE).toString('utf8');
  } catch {
    throw new SecretUnavailable('JWT_KEY_ENCRYPTION_SECRET does not open the webhook secret');
  }
}

/** The HMAC key a "whsec_..." secret stands for. */
export function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

export interface SecretColumns {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/** The keys that sign a delivery made at `now`: the current secret, and the previous one until it expires. */
export function signingKeys(row: SecretColumns, now: Date, encryptionSecret: string | undefined): Buffer[] {
  const keys = [keyOf(openSecret(row.secret, encryptionSecret))];
  if (row.previousSecret && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now) {
    keys.push(keyOf(openSecret(row.previousSecret, encryptionSecret)));
  }
  return keys;
}

/** The `webhook-signature` header value for one message. `timestamp` is in whole seconds since the epoch. */
export function signatureHeader(keys: readonly Buffer[], id: string, timestamp: number, body: string): string {
  const content = `${id}.${timestamp}.${body}`;
  return keys.map((key) => 'v1,' + createHmac('sha256', key).update(content, 'utf8').digest('base64')).join(' ');
}

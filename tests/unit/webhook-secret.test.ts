/**
 * Webhook signing secrets (src/webhooks/secret.ts): the Standard Webhooks shape, sealing at rest, the
 * previous secret signing only until it expires, and signatures that the reference `standardwebhooks`
 * package (written by others) verifies, so receivers' libraries accept what we send.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  SecretUnavailable,
  keyOf,
  newSigningSecret,
  openSecret,
  sealSecret,
  signatureHeader,
  signingKeys,
} from '../../src/webhooks/secret.js';

const KEY = 'an encryption secret of at least thirty-two characters';
const OTHER_KEY = 'a different encryption secret, also long enough';

describe('secrets', () => {
  it('is "whsec_" + base64 of 32 random bytes, new each time', () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(keyOf(a)).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(a);
  });

  it('seals and opens again (AES-256-GCM); the envelope holds nothing of the secret', () => {
    const secret = newSigningSecret();
    const sealed = sealSecret(secret, KEY);
    expect(sealed.startsWith('sealed:')).toBe(true);
    expect(sealed).not.toContain(secret.slice(6));
    expect(openSecret(sealed, KEY)).toBe(secret);
    // A fresh nonce each time: the same secret never seals to the same text.
    expect(sealSecret(secret, KEY)).not.toBe(sealed);
  });

  it('refuses to open with the wrong key, without a key, or an altered envelope', () => {
    const sealed = sealSecret(newSigningSecret(), KEY);
    expect(() => openSecret(sealed, OTHER_KEY)).toThrow(SecretUnavailable);
    expect(() => openSecret(sealed, undefined)).toThrow(SecretUnavailable);
    const envelope = JSON.parse(sealed.slice('sealed:'.length));
    const data = Buffer.from(envelope.data, 'base64url');
    data[0]! ^= 1;
    const altered = 'sealed:' + JSON.stringify({ ...envelope, data: data.toString('base64url') });
    expect(() => openSecret(altered, KEY)).toThrow(SecretUnavailable);
  });

  it('stores a secret as it is without an encryption key, and opens it with or without one', () => {
    const secret = newSigningSecret();
    expect(sealSecret(secret, undefined)).toBe(secret);
    expect(openSecret(secret, undefined)).toBe(secret);
    expect(openSecret(secret, KEY)).toBe(secret);
  });
});

describe('signing keys across a rotation', () => {
  const current = newSigningSecret();
  const previous = newSigningSecret();
  const expiresAt = new Date('2026-12-08T12:00:00Z');
  const row = {
    secret: sealSecret(current, KEY),
    previousSecret: sealSecret(previous, KEY),
    previousSecretExpiresAt: expiresAt,
  };

  it('signs with both until the previous secret expires, then with the current one only', () => {
    expect(signingKeys(row, new Date(expiresAt.getTime() - 1), KEY)).toEqual([keyOf(current), keyOf(previous)]);
    expect(signingKeys(row, expiresAt, KEY)).toEqual([keyOf(current)]);
    expect(signingKeys(row, new Date(expiresAt.getTime() + 60_000), KEY)).toEqual([keyOf(current)]);
  });

  it('signs with the current one only when there is no previous secret', () => {
    const single = { secret: current, previousSecret: null, previousSecretExpiresAt: null };
    expect(signingKeys(single, new Date(), undefined)).toEqual([keyOf(current)]);
  });
});

describe('signatures the standardwebhooks package verifies', () => {
  const body = JSON.stringify({ specversion: '1.0', id: 'e1', type: 'kz.nysana.year.approved', data: { ü: 'ж' } });
  const id = 'msg_2b7f0a4e-52a5-4a5c-9d1e-2ef2c1f0c001';

  const headersFor = (keys: Buffer[], timestamp = Math.floor(Date.now() / 1000)) => ({
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(keys, id, timestamp, body),
  });

  it('verifies a signature made with the secret', () => {
    const secret = newSigningSecret();
    const headers = headersFor([keyOf(secret)]);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('during a rotation, a receiver holding either secret verifies; one holding neither does not', () => {
    const [current, previous] = [newSigningSecret(), newSigningSecret()];
    const headers = headersFor([keyOf(current), keyOf(previous)]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
  });

  it('a changed body, id or timestamp fails verification', () => {
    const secret = newSigningSecret();
    const headers = headersFor([keyOf(secret)]);
    const wh = new Webhook(secret);
    expect(() => wh.verify(body.replace('e1', 'e2'), headers)).toThrow();
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow();
    expect(() =>
      wh.verify(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) }),
    ).toThrow();
  });
});

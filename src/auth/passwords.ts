/**
 * Password hashing with argon2id at the OWASP minimum (19 MiB, t=2, p=1). Hashes are PHC strings,
 * so a stored hash carries its own parameters: raising them later only needs `needsRehash` at
 * the next successful login.
 */
import type { Algorithm } from '@node-rs/argon2';
import { hash, parseOptions, verify } from '@node-rs/argon2';

// `Algorithm` is an ambient const enum, which isolatedModules cannot inline; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export const PASSWORD_POLICY = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_POLICY);
}

/** False (never throws) for a wrong password or a malformed stored hash. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

export function needsRehash(stored: string): boolean {
  try {
    const used = parseOptions(stored);
    return (
      used.algorithm !== PASSWORD_POLICY.algorithm ||
      used.memoryCost < PASSWORD_POLICY.memoryCost ||
      used.timeCost < PASSWORD_POLICY.timeCost ||
      used.parallelism < PASSWORD_POLICY.parallelism
    );
  } catch {
    return true;
  }
}

let dummy: Promise<string> | undefined;

/**
 * A hash of a random password with the current parameters. Verifying against it when the account
 * does not exist makes "no such user" cost the same time as "wrong password".
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomUUID());
  return dummy;
}

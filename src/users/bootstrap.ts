/**
 * The first admin, created only while no user exists: the variables cannot later reset anyone's
 * password or resurrect a deleted admin.
 *
 * - ADMIN_EMAIL and ADMIN_PASSWORD set: that admin (any database).
 * - Neither set, and `generateLocal` (the server passes it for the embedded database only): a local
 *   admin `admin@nysana.local` with a random password, returned so the caller prints it once. Never
 *   on a DATABASE_URL database, whose console output may end up in shared logs.
 *
 * Replicas starting together may both see an empty table; the unique e-mail lets exactly one win.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { hashPassword } from '../auth/passwords.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { users } from '../db/schema.js';

export const LOCAL_ADMIN_EMAIL = 'admin@nysana.local';

export type FirstAdmin =
  | { status: 'created'; email: string; generatedPassword?: string }
  | { status: 'exists' }
  /** No user at all and nothing to create one from: nobody can log in until `npm run user:create`. */
  | { status: 'no-users' };

export async function ensureFirstAdmin(
  db: Db,
  config: Pick<Config, 'ADMIN_EMAIL' | 'ADMIN_PASSWORD'>,
  options: { generateLocal?: boolean } = {},
): Promise<FirstAdmin> {
  const configured = Boolean(config.ADMIN_EMAIL && config.ADMIN_PASSWORD);
  const [{ count } = { count: 0 }] = await db.select({ count: sql<number>`count(*)::int` }).from(users);
  if (count > 0) return { status: 'exists' };
  if (!configured && !options.generateLocal) return { status: 'no-users' };
  const email = configured ? config.ADMIN_EMAIL!.trim().toLowerCase() : LOCAL_ADMIN_EMAIL;
  const generatedPassword = configured ? undefined : randomBytes(18).toString('base64url');
  const passwordHash = await hashPassword(configured ? config.ADMIN_PASSWORD! : generatedPassword!);
  try {
    await db.insert(users).values({ email, displayName: 'Administrator', role: 'admin', passwordHash });
  } catch (error) {
    if (isUniqueViolation(error)) return { status: 'exists' };
    throw error;
  }
  return generatedPassword ? { status: 'created', email, generatedPassword } : { status: 'created', email };
}

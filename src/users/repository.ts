/** The SQL of users: the row-to-DTO mapping, the list filters, and the locks of a user write. */
import type { SQL } from 'drizzle-orm';
import { and, eq, or } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { users } from '../db/schema.js';
import { iso } from '../shared/decimal.js';
import type { User } from './schemas.js';

export type UserRow = typeof users.$inferSelect;

export const toUserDto = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.displayName,
  role: row.role,
  organizationId: row.organizationId,
  active: row.active,
  lastLoginAt: row.lastLoginAt ? iso(row.lastLoginAt) : null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

export interface UserFilterValues {
  role?: UserRow['role'];
  organizationId?: string;
  active?: boolean;
  email?: string;
}

/** Exact-match filters of GET /users. */
export const userFilters = (q: UserFilterValues): (SQL | undefined)[] => [
  q.role ? eq(users.role, q.role) : undefined,
  q.organizationId ? eq(users.organizationId, q.organizationId) : undefined,
  q.active !== undefined ? eq(users.active, q.active) : undefined,
  q.email ? eq(users.email, q.email) : undefined,
];

export async function findUser(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

export const isActiveAdmin = (u: Pick<UserRow, 'role' | 'active'>) => u.role === 'admin' && u.active;

/**
 * Locks the target and every active admin, in id order (one order for every user write, so two
 * admins demoting each other cannot deadlock), and returns the target plus the other active admins.
 */
export async function lockForChange(tx: Tx, id: string) {
  const rows = await tx
    .select()
    .from(users)
    .where(or(eq(users.id, id), and(eq(users.role, 'admin'), eq(users.active, true))))
    .orderBy(users.id)
    .for('update');
  const target = rows.find((r) => r.id === id);
  const otherAdmins = rows.filter((r) => r.id !== id && isActiveAdmin(r)).length;
  return { target, otherAdmins };
}

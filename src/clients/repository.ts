/** The SQL of service clients: the row-to-DTO mapping, the list filters, the read by id. */
import type { SQL } from 'drizzle-orm';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { serviceClients } from '../db/schema.js';
import { iso } from '../shared/decimal.js';
import type { Client } from './schemas.js';

export type ClientRow = typeof serviceClients.$inferSelect;

export const toClientDto = (row: ClientRow): Client => ({
  id: row.id,
  clientId: row.id,
  name: row.name,
  role: row.role,
  organizationId: row.organizationId,
  active: row.active,
  lastUsedAt: row.lastUsedAt ? iso(row.lastUsedAt) : null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

/** Exact-match filters of GET /clients. */
export const clientFilters = (q: {
  role?: ClientRow['role'];
  organizationId?: string;
  active?: boolean;
}): (SQL | undefined)[] => [
  q.role ? eq(serviceClients.role, q.role) : undefined,
  q.organizationId ? eq(serviceClients.organizationId, q.organizationId) : undefined,
  q.active !== undefined ? eq(serviceClients.active, q.active) : undefined,
];

export async function findClient(db: Db, id: string): Promise<ClientRow | undefined> {
  const [row] = await db.select().from(serviceClients).where(eq(serviceClients.id, id));
  return row;
}

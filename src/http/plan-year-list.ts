/**
 * The lists of one plan's per-year rows (year approvals, analytical notes): keyset pages of the
 * plan's rows, 404 for an unknown plan, and incremental sync over the rows and the tombstones filed
 * under the plan. One call for both, through the list pipeline.
 */
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { planExists } from '../approvals/repository.js';
import type { Db } from '../db/client.js';
import type { KeysetList } from '../lists/keyset.js';
import { notFound } from '../shared/errors.js';
import type { SyncTable } from '../sync/lists.js';
import { planYearSync } from '../sync/lists.js';
import { answerList } from './list-pipeline.js';

interface PlanYearList<T extends SyncTable, Dto extends object> {
  planId: string;
  list: KeysetList<T['$inferSelect'], Dto>;
  table: T;
  /** entity_type of the tombstones. */
  entityType: string;
  planColumn: AnyPgColumn;
  toDto: (row: T['$inferSelect']) => Dto;
}

export function planYearList<T extends SyncTable, Dto extends object>(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Db,
  o: PlanYearList<T, Dto>,
  q: Parameters<typeof answerList>[3],
) {
  const { planId, list, ...sync } = o;
  return answerList(
    request,
    reply,
    {
      db,
      list,
      parent: async () => {
        if (!(await planExists(db, planId))) throw notFound('plan', planId);
      },
      sync: { read: (s) => planYearSync(db, { ...sync, planId, ...s }) },
    },
    q,
  );
}

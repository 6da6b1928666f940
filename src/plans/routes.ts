import { and, eq, gt, lt, or, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/client.js';
import { organizationOf } from '../db/ownership.js';
import { joinUp } from '../db/plan-tree.js';
import { directions, indicators, measurements, organizations, plans } from '../db/schema.js';
import { registerCrud } from '../http/crud.js';
import { badRequest, conflict } from '../http/problem.js';
import { iso } from '../shared/decimal.js';
import { MEASUREMENT_HISTORY_YEARS } from '../measurements/rules.js';
import { assertMethodExists } from '../evaluation-methods/service.js';
import { Plan, PlanCreate, PlanFilters, PlanPatch } from './schemas.js';

type Row = typeof plans.$inferSelect;

export const toPlanDto = (row: Row): Plan => ({
  id: row.id,
  organizationId: row.organizationId,
  code: row.code,
  title: row.title,
  startYear: row.startYear,
  endYear: row.endYear,
  approval: row.approval ?? null,
  evaluationMethodId: row.evaluationMethodId ?? null,
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

export function planRoutes(app: FastifyInstance, db: Db) {
  registerCrud(app, db, {
    name: 'plan',
    plural: 'plans',
    tag: 'Plans',
    table: plans,
    entity: Plan,
    createBody: PlanCreate,
    patchBody: PlanPatch,
    collectionPath: '/plans',
    itemPath: '/plans/:id',
    filters: PlanFilters,
    filterConditions: (q) => [
      q.organizationId ? eq(plans.organizationId, q.organizationId) : undefined,
      q.code ? eq(plans.code, q.code) : undefined,
    ],
    orderBy: [plans.code, plans.id],
    toDto: toPlanDto,
    toInsert: (body) => ({ ...body }),
    toUpdate: (patch) => ({ ...patch }),
    organizationOfNew: async (_db, request) => (request.body as { organizationId?: string }).organizationId,
    organizationOfRow: organizationOf.plan,
    planOf: async (_tx, row) => row.id,
    lockedFields: ['startYear', 'endYear'],
    validate: async (tx, candidate, previous) => {
      const plan = candidate as unknown as Row;
      if (plan.startYear > plan.endYear) {
        // The schema checks the pair when both are sent; a PATCH of one can still cross the stored other.
        const field = previous && plan.endYear === (previous as unknown as Row).endYear ? 'startYear' : 'endYear';
        throw badRequest('startYear must not be after endYear.', [
          {
            path: `body.${field}`,
            message: `startYear (${plan.startYear}) must not be after endYear (${plan.endYear})`,
          },
        ]);
      }
      await assertMethodExists(tx, plan.evaluationMethodId);
      if (!previous) {
        const org = await tx
          .select({ id: organizations.id })
          .from(organizations)
          .where(eq(organizations.id, plan.organizationId))
          .for('share');
        if (org.length === 0) {
          throw badRequest('The organization does not exist.', [
            { path: 'body.organizationId', message: 'unknown organization' },
          ]);
        }
        return;
      }
      // Narrowing the years must not strand measurements outside the allowed range.
      const [stranded] = await joinUp(
        tx
          .select({ count: sql<number>`count(*)::int` })
          .from(measurements)
          .innerJoin(indicators, eq(indicators.id, measurements.indicatorId))
          .$dynamic(),
        indicators,
        directions,
      ).where(
        and(
          eq(directions.planId, plan.id),
          or(lt(measurements.year, plan.startYear - MEASUREMENT_HISTORY_YEARS), gt(measurements.year, plan.endYear)),
        ),
      );
      if (stranded && stranded.count > 0) {
        throw conflict(
          `${stranded.count} measurement(s) would fall outside ${plan.startYear - MEASUREMENT_HISTORY_YEARS}..${plan.endYear}; delete or move them first.`,
        );
      }
    },
  });
}

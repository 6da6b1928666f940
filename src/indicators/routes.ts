import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/client.js';
import { organizationOf, planIdOf } from '../db/ownership.js';
import { goals, indicators, measurements } from '../db/schema.js';
import { registerCrud } from '../http/crud.js';
import { badRequest, conflict } from '../http/problem.js';
import { toIndicatorDto } from './repository.js';
import { Indicator, IndicatorCreate, IndicatorFilters, IndicatorPatch } from './schemas.js';

type Row = typeof indicators.$inferSelect;

const notAWholeRank = (column: typeof measurements.plan | typeof measurements.fact) =>
  and(isNotNull(column), or(sql`${column} < 1`, sql`${column} <> trunc(${column})`));

export function indicatorRoutes(app: FastifyInstance, db: Db) {
  registerCrud(app, db, {
    name: 'indicator',
    plural: 'indicators',
    tag: 'Indicators',
    table: indicators,
    entity: Indicator,
    createBody: IndicatorCreate,
    patchBody: IndicatorPatch,
    collectionPath: '/goals/:goalId/indicators',
    itemPath: '/indicators/:id',
    parent: { param: 'goalId', table: goals, column: indicators.goalId, name: 'goal' },
    filters: IndicatorFilters,
    filterConditions: (q) => [
      q.code ? eq(indicators.code, q.code) : undefined,
      q.valueType ? eq(indicators.valueType, q.valueType) : undefined,
      q.betterWhen ? eq(indicators.betterWhen, q.betterWhen) : undefined,
    ],
    orderBy: [indicators.position, indicators.code, indicators.id],
    hasPosition: true,
    toDto: toIndicatorDto,
    toInsert: (body, goalId) => ({
      ...body,
      goalId,
      weight: body.weight === undefined ? undefined : String(body.weight),
    }),
    toUpdate: (patch) => ({ ...patch, weight: patch.weight === undefined ? undefined : String(patch.weight) }),
    organizationOfNew: (database, request) =>
      organizationOf.goal(database, (request.params as { goalId: string }).goalId),
    organizationOfRow: organizationOf.indicator,
    planOf: (tx, row) => planIdOf.goal(tx, row.goalId as string),
    // Either would change the verdict of an approved year.
    lockedFields: ['valueType', 'betterWhen'],
    validate: async (tx, candidate, previous) => {
      const next = candidate as unknown as Row;
      const prev = previous as unknown as Row | undefined;
      if (next.valueType === 'rank' && next.betterWhen !== 'lower') {
        throw badRequest('A rank is always betterWhen "lower".', [
          { path: 'body.betterWhen', message: 'a rank is always betterWhen "lower" (a lower place is better)' },
        ]);
      }
      if (!prev || prev.valueType === next.valueType) return;
      // Changing the value type must keep every stored measurement valid under the new type.
      const invalid =
        next.valueType === 'rank'
          ? or(notAWholeRank(measurements.plan), notAWholeRank(measurements.fact))
          : or(isNotNull(measurements.ratingSize), isNotNull(measurements.score));
      const [row] = await tx
        .select({ count: sql<number>`count(*)::int` })
        .from(measurements)
        .where(and(eq(measurements.indicatorId, next.id), invalid));
      if (row && row.count > 0) {
        throw conflict(
          next.valueType === 'rank'
            ? `${row.count} measurement(s) are not whole ranks >= 1; fix them before making this indicator a rank.`
            : `${row.count} measurement(s) carry ratingSize or score, which only ranks have; clear them first.`,
        );
      }
    },
  });
}

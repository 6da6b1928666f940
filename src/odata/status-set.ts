/**
 * StatusRows: the flat status rows (one per stored measurement: an indicator in a year) as an
 * OData entity set, read through the one status read model (src/status/read-model.ts). The $filter
 * and $orderby arrive as conditions and orderings over the read model's own column expressions and
 * its computed columns (status, achievementPercent, deviation: the rules' SQL forms beside them in
 * src/achievement/status-sql.ts); the answer's fields come from the TypeScript rules
 * (toIndicatorStatus), as on /api/v1/status. percentile has no SQL form yet: selectable, not filterable.
 *
 * Each row carries the codes and names of its organization, plan, direction and goal (the read
 * model's placement columns), and without an $orderby rows come in the natural order (plan,
 * direction, goal, indicator code with 1.1.10 after 1.1.9, then year), which also breaks ties.
 *
 * Rows are the stored measurements, not "every indicator of a running plan": `year eq 2016` is then
 * an ordinary condition, and an indicator without a measurement that year has no row (the REST
 * /status?year= feed, which adds those as no_target, stays the place for that view).
 */
import type { SQL } from 'drizzle-orm';
import { asc, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { directions, goals, indicators, measurements, plans, yearApprovals } from '../db/schema.js';
import type { StatusContext, StatusPlacement, StatusRow } from '../status/assemble.js';
import { toFlatIndicatorStatus } from '../status/assemble.js';
import type { StatusFrame, StatusSpec } from '../status/read-model.js';
import {
  countStatus,
  naturalOrderColumns,
  readStatus,
  statusComputedColumns,
  statusPlacementColumns,
  statusViewColumns,
} from '../status/read-model.js';
import type { EntitySet, Property, PropertyKind } from './model.js';
import { localizedSql } from './model.js';
import type { EntityRow } from './repository.js';
import type { SetReader } from './service.js';

const column = (name: string, kind: PropertyKind, expression: AnyPgColumn | SQL, nullable = false): Property => ({
  name,
  kind,
  nullable,
  sql: () => expression,
});
const localized = (name: string, expression: AnyPgColumn, nullable = false): Property => ({
  name,
  kind: 'text',
  nullable,
  sql: (scope) => localizedSql(expression, scope.lang),
  description: 'Localized: resolved to ?lang (or Accept-Language), falling back kk, ru, en.',
});
const computedOnly = (name: string, kind: PropertyKind): Property => ({
  name,
  kind,
  nullable: true,
  sql: () => sql`null`,
  notQueryable: 'computed by the rules in the answer only',
});

export const STATUS_SET: EntitySet = {
  name: 'StatusRows',
  type: 'StatusRow',
  keys: ['indicatorId', 'year'],
  description: 'One indicator in one year with its derived achievement: a row per stored measurement.',
  properties: [
    column('indicatorId', 'id', indicators.id),
    column('year', 'int', measurements.year),
    column('organizationId', 'id', plans.organizationId),
    column('organizationCode', 'text', statusPlacementColumns.organizationCode),
    localized('organizationName', statusPlacementColumns.organizationName),
    column('planId', 'id', plans.id),
    column('planCode', 'text', statusPlacementColumns.planCode),
    localized('planTitle', statusPlacementColumns.planTitle),
    column('directionId', 'id', directions.id),
    column('directionCode', 'text', statusPlacementColumns.directionCode),
    localized('directionTitle', statusPlacementColumns.directionTitle),
    column('goalId', 'id', goals.id),
    column('goalCode', 'text', statusPlacementColumns.goalCode),
    localized('goalTitle', statusPlacementColumns.goalTitle),
    column('code', 'text', indicators.code),
    localized('name', indicators.name),
    localized('unit', indicators.unit),
    column('valueType', 'text', indicators.valueType),
    column('betterWhen', 'text', indicators.betterWhen),
    column('plan', 'decimal', measurements.plan, true),
    column('fact', 'decimal', measurements.fact, true),
    column('ratingSize', 'int', measurements.ratingSize, true),
    column('score', 'decimal', measurements.score, true),
    {
      ...column('status', 'text', statusComputedColumns.status),
      description: 'achieved, not_achieved, pending or no_target (derived, never typed in).',
    },
    column('achievementPercent', 'decimal', statusComputedColumns.achievementPercent, true),
    column('deviation', 'decimal', statusComputedColumns.deviation, true),
    {
      ...column('trend', 'text', statusComputedColumns.trend, true),
      description: 'improved, worsened or unchanged against the previous year.',
    },
    computedOnly('percentile', 'decimal'),
    column('approved', 'bool', sql`(${yearApprovals.id} is not null)`),
  ],
  // Every level above the row, so a BI model can relate the flat rows to each table directly.
  navigation: [
    { name: 'Indicator', target: 'Indicators', many: false, foreignKey: 'indicatorId' },
    { name: 'Goal', target: 'Goals', many: false, foreignKey: 'goalId' },
    { name: 'Direction', target: 'Directions', many: false, foreignKey: 'directionId' },
    { name: 'Plan', target: 'Plans', many: false, foreignKey: 'planId' },
    { name: 'Organization', target: 'Organizations', many: false, foreignKey: 'organizationId' },
  ],
};

/** Everything toFlatIndicatorStatus reads; the read model's own selection. */
const statusRowSelection = (frame: StatusFrame) => statusViewColumns(frame);
type Selected = StatusRow & StatusContext & StatusPlacement;

function spec(where: SQL | undefined): StatusSpec {
  // No year in the filter: one row per stored measurement, every condition a plain one on the row.
  return { columns: statusRowSelection, filter: {}, rows: 'measured', where: [where] };
}

export const statusReader: SetReader = {
  async page(db, _set, scope, page): Promise<EntityRow[]> {
    const rows = (await readStatus(db, {
      ...spec(page.where),
      // The client's order, then the natural one (plan, direction, goal, indicator code; 1.1.10 after 1.1.9; year).
      order: { by: 'terms', terms: [...page.orderBy, ...naturalOrderColumns(false).map((c) => asc(c))] },
      limit: page.limit,
      offset: page.offset,
    })) as unknown as Selected[];
    return rows.map((row) => {
      const s = toFlatIndicatorStatus(row, scope.lang);
      return {
        indicatorId: s.indicatorId,
        year: s.year,
        organizationId: s.organizationId,
        organizationCode: s.organizationCode,
        organizationName: s.organizationNameText ?? null,
        planId: s.planId,
        planCode: s.planCode,
        planTitle: s.planTitleText ?? null,
        directionId: s.directionId,
        directionCode: s.directionCode,
        directionTitle: s.directionTitleText ?? null,
        goalId: s.goalId,
        goalCode: s.goalCode,
        goalTitle: s.goalTitleText ?? null,
        code: s.code,
        name: s.nameText ?? null,
        unit: s.unitText ?? null,
        valueType: s.valueType,
        betterWhen: s.betterWhen,
        plan: s.plan,
        fact: s.fact,
        ratingSize: s.ratingSize,
        score: s.score,
        status: s.status,
        achievementPercent: s.achievementPercent,
        deviation: s.deviation,
        trend: s.trend,
        percentile: s.percentile,
        approved: s.approved,
      };
    });
  },
  count: (db, _set, _scope, where) => countStatus(db, spec(where)),
};

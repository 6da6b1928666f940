/**
 * The one drizzle schema for both drivers (pg and PGlite). drizzle-kit generates the SQL in
 * migrations/ from this file; never edit applied migrations, generate a new one.
 *
 * Foreign keys are ON DELETE RESTRICT on purpose: a plain DELETE of a parent that still has
 * children fails atomically in the database (mapped to 409), so there is no check-then-delete race.
 * `?cascade=true` deletes descendants bottom-up inside one transaction instead.
 */
import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** `{ kk?, ru?, en? }`: validated by the zod LocalizedText schema before it reaches the table. */
export type LocalizedTextColumn = { kk?: string; ru?: string; en?: string };
export type ApprovalColumn = { document: LocalizedTextColumn; date: string };

const id = () => uuid('id').primaryKey().defaultRandom();
const version = () => integer('version').notNull().default(1);
const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow();
const localized = (name: string) => jsonb(name).$type<LocalizedTextColumn>();

export const organizations = pgTable(
  'organizations',
  {
    id: id(),
    code: text('code').notNull(),
    name: localized('name').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('organizations_code_key').on(t.code)],
);

export const plans = pgTable(
  'plans',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'restrict' }),
    code: text('code').notNull(),
    title: localized('title').notNull(),
    startYear: integer('start_year').notNull(),
    endYear: integer('end_year').notNull(),
    approval: jsonb('approval').$type<ApprovalColumn>(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('plans_organization_code_key').on(t.organizationId, t.code),
    check('plans_years_check', sql`${t.startYear} <= ${t.endYear}`),
  ],
);

export const directions = pgTable(
  'directions',
  {
    id: id(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'restrict' }),
    code: text('code').notNull(),
    title: localized('title').notNull(),
    position: integer('position').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('directions_plan_code_key').on(t.planId, t.code)],
);

export const goals = pgTable(
  'goals',
  {
    id: id(),
    directionId: uuid('direction_id')
      .notNull()
      .references(() => directions.id, { onDelete: 'restrict' }),
    code: text('code').notNull(),
    title: localized('title').notNull(),
    position: integer('position').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('goals_direction_code_key').on(t.directionId, t.code)],
);

export const indicators = pgTable(
  'indicators',
  {
    id: id(),
    goalId: uuid('goal_id')
      .notNull()
      .references(() => goals.id, { onDelete: 'restrict' }),
    code: text('code').notNull(),
    name: localized('name').notNull(),
    unit: localized('unit').notNull(),
    source: localized('source').notNull(),
    valueType: text('value_type', { enum: ['percent', 'number', 'rank'] }).notNull(),
    betterWhen: text('better_when', { enum: ['higher', 'lower'] }).notNull(),
    group: localized('group'),
    position: integer('position').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('indicators_goal_code_key').on(t.goalId, t.code),
    check('indicators_value_type_check', sql`${t.valueType} in ('percent', 'number', 'rank')`),
    check('indicators_better_when_check', sql`${t.betterWhen} in ('higher', 'lower')`),
    check('indicators_rank_lower_check', sql`${t.valueType} <> 'rank' or ${t.betterWhen} = 'lower'`),
  ],
);

export const measurements = pgTable(
  'measurements',
  {
    id: id(),
    indicatorId: uuid('indicator_id')
      .notNull()
      .references(() => indicators.id, { onDelete: 'restrict' }),
    year: integer('year').notNull(),
    plan: numeric('plan'),
    fact: numeric('fact'),
    ratingSize: integer('rating_size'),
    score: numeric('score'),
    note: localized('note'),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('measurements_indicator_year_key').on(t.indicatorId, t.year),
    index('measurements_year_idx').on(t.year),
  ],
);

export const schema = { organizations, plans, directions, goals, indicators, measurements };
export type Schema = typeof schema;

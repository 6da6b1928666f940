/**
 * The OData entity model: which entity sets the feed serves, their properties (each an SQL
 * expression over the set's tables, so $filter and $orderby run in the database), keys and
 * navigation. The CSDL document ($metadata, csdl.ts) and the query translation (filter-sql.ts)
 * are both derived from it, so what a client reads in $metadata is what it can query.
 *
 * Ids are declared Edm.String (a UUID's text), not Edm.Guid: the $filter parser (@balena/odata-parser)
 * reads quoted strings but not bare GUID literals, and BI tools treat both alike.
 * Localized text is one plain string resolved to the asked language (?lang, Accept-Language,
 * falling back kk, ru, en as everywhere else), in SQL, so it can be filtered and ordered.
 */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { directions, goals, indicators, measurements, organizations, plans } from '../db/schema.js';
import type { Lang } from '../shared/lang.js';

/** How a property compares and which literals it takes. */
export type PropertyKind = 'id' | 'text' | 'int' | 'decimal' | 'bool';

export const EDM_TYPE: Record<PropertyKind, string> = {
  id: 'Edm.String',
  text: 'Edm.String',
  int: 'Edm.Int32',
  decimal: 'Edm.Decimal',
  bool: 'Edm.Boolean',
};

/** What a property's SQL may depend on: the language text resolves to. */
export interface Scope {
  lang: Lang;
}

export interface Property {
  name: string;
  kind: PropertyKind;
  nullable: boolean;
  /** The value in SQL; filters and orderings use the same expression the answer is read from. */
  sql: (scope: Scope) => SQL | AnyPgColumn;
  /** Set when the property is computed outside SQL only: it may be selected but not filtered or ordered. */
  notQueryable?: string;
  description?: string;
}

export interface Navigation {
  name: string;
  target: EntitySetName;
  /** many: target rows whose `foreignKey` property equals this key; one: the target whose key equals this row's `foreignKey`. */
  many: boolean;
  foreignKey: string;
}

export const ENTITY_SET_NAMES = [
  'Organizations',
  'Plans',
  'Directions',
  'Goals',
  'Indicators',
  'Measurements',
  'StatusRows',
] as const;
export type EntitySetName = (typeof ENTITY_SET_NAMES)[number];

export interface EntitySet {
  name: EntitySetName;
  type: string;
  keys: string[];
  properties: Property[];
  navigation: Navigation[];
  description: string;
}

export const NAMESPACE = 'Nysana';

const LANG_ORDER: Record<Lang, Lang[]> = { kk: ['kk', 'ru', 'en'], ru: ['ru', 'kk', 'en'], en: ['en', 'kk', 'ru'] };

/** A localized jsonb column as one string: the asked language, then kk, ru, en (resolveText in SQL). */
export function localizedSql(column: AnyPgColumn | SQL, lang: Lang): SQL {
  // The language is one of three fixed codes (validated), so it is written into the text, not bound.
  const parts = LANG_ORDER[lang].map((l) => sql`nullif(${column} ->> ${sql.raw(`'${l}'`)}, '')`);
  return sql`coalesce(${sql.join(parts, sql`, `)})`;
}

const prop = (name: string, kind: PropertyKind, column: AnyPgColumn | SQL, nullable = false): Property => ({
  name,
  kind,
  nullable,
  sql: () => column,
});
const text = (name: string, column: AnyPgColumn, nullable = false): Property => ({
  name,
  kind: 'text',
  nullable,
  sql: (scope) => localizedSql(column, scope.lang),
  description: 'Localized: resolved to ?lang (or Accept-Language), falling back kk, ru, en.',
});

const many = (name: string, target: EntitySetName, foreignKey: string): Navigation => ({
  name,
  target,
  many: true,
  foreignKey,
});
const one = (name: string, target: EntitySetName, foreignKey: string): Navigation => ({
  name,
  target,
  many: false,
  foreignKey,
});

/** The tables of the planning sets; StatusRows read through the status read model instead (status-set.ts). */
export const TABLE_OF = {
  Organizations: organizations,
  Plans: plans,
  Directions: directions,
  Goals: goals,
  Indicators: indicators,
  Measurements: measurements,
} as const;
export type TableSetName = keyof typeof TABLE_OF;

export const TABLE_SETS: Record<TableSetName, EntitySet> = {
  Organizations: {
    name: 'Organizations',
    type: 'Organization',
    keys: ['id'],
    description: 'State bodies.',
    properties: [
      prop('id', 'id', organizations.id),
      prop('code', 'text', organizations.code),
      text('name', organizations.name),
      prop('version', 'int', organizations.version),
    ],
    navigation: [many('Plans', 'Plans', 'organizationId')],
  },
  Plans: {
    name: 'Plans',
    type: 'Plan',
    keys: ['id'],
    description: 'Strategic plans of the state bodies.',
    properties: [
      prop('id', 'id', plans.id),
      prop('organizationId', 'id', plans.organizationId),
      prop('code', 'text', plans.code),
      text('title', plans.title),
      prop('startYear', 'int', plans.startYear),
      prop('endYear', 'int', plans.endYear),
      prop('version', 'int', plans.version),
    ],
    navigation: [one('Organization', 'Organizations', 'organizationId'), many('Directions', 'Directions', 'planId')],
  },
  Directions: {
    name: 'Directions',
    type: 'Direction',
    keys: ['id'],
    description: 'Strategic directions of a plan.',
    properties: [
      prop('id', 'id', directions.id),
      prop('planId', 'id', directions.planId),
      prop('code', 'text', directions.code),
      text('title', directions.title),
      prop('position', 'int', directions.position),
      prop('version', 'int', directions.version),
    ],
    navigation: [one('Plan', 'Plans', 'planId'), many('Goals', 'Goals', 'directionId')],
  },
  Goals: {
    name: 'Goals',
    type: 'Goal',
    keys: ['id'],
    description: 'Goals under a strategic direction.',
    properties: [
      prop('id', 'id', goals.id),
      prop('directionId', 'id', goals.directionId),
      prop('code', 'text', goals.code),
      text('title', goals.title),
      prop('position', 'int', goals.position),
      prop('version', 'int', goals.version),
    ],
    navigation: [one('Direction', 'Directions', 'directionId'), many('Indicators', 'Indicators', 'goalId')],
  },
  Indicators: {
    name: 'Indicators',
    type: 'Indicator',
    keys: ['id'],
    description: 'Target indicators under a goal.',
    properties: [
      prop('id', 'id', indicators.id),
      prop('goalId', 'id', indicators.goalId),
      prop('code', 'text', indicators.code),
      text('name', indicators.name),
      text('unit', indicators.unit),
      text('source', indicators.source),
      text('group', indicators.group, true),
      prop('valueType', 'text', indicators.valueType),
      prop('betterWhen', 'text', indicators.betterWhen),
      prop('position', 'int', indicators.position),
      prop('version', 'int', indicators.version),
    ],
    navigation: [
      one('Goal', 'Goals', 'goalId'),
      many('Measurements', 'Measurements', 'indicatorId'),
      many('StatusRows', 'StatusRows', 'indicatorId'),
    ],
  },
  Measurements: {
    name: 'Measurements',
    type: 'Measurement',
    keys: ['id'],
    description: 'Planned and actual values of an indicator, one per year.',
    properties: [
      prop('id', 'id', measurements.id),
      prop('indicatorId', 'id', measurements.indicatorId),
      prop('year', 'int', measurements.year),
      prop('plan', 'decimal', measurements.plan, true),
      prop('fact', 'decimal', measurements.fact, true),
      prop('ratingSize', 'int', measurements.ratingSize, true),
      prop('score', 'decimal', measurements.score, true),
      text('note', measurements.note, true),
      prop('version', 'int', measurements.version),
    ],
    navigation: [one('Indicator', 'Indicators', 'indicatorId')],
  },
};

export const propertyOf = (set: EntitySet, name: string): Property | undefined =>
  set.properties.find((p) => p.name === name);

/**
 * The planning hierarchy's joins, written once: indicator -> goal -> direction -> plan.
 * Queries walk it up (an indicator's or goal's plan: inner joins) or down (a plan's tree with its
 * empty directions and goals: left joins), as drizzle query builder steps or, for hand-written
 * statements, as an SQL fragment rendering the very same conditions.
 */
import type { SQL } from 'drizzle-orm';
import { eq, sql } from 'drizzle-orm';
import type { PgSelect, PgSelectBase, PgSelectQueryBuilder } from 'drizzle-orm/pg-core';

/** A dynamic select (`.$dynamic()`), from a database handle or a standalone QueryBuilder. */
type Select = PgSelect | PgSelectQueryBuilder;

/**
 * `T` with the tree's tables joined: a dynamic select keeps its type through joins, so without
 * this, columns of the joined tables would be typed `never` in the result.
 */
type Joined<T> =
  T extends PgSelectBase<infer N, infer S, infer M, infer NM, infer D, infer E, any, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- matched, not used
    ? PgSelectBase<N, S, M, NM & Record<'indicators' | 'goals' | 'directions' | 'plans', 'not-null'>, D, E>
    : T;
import { directions, goals, indicators, plans } from './schema.js';

export type TreeLevel = typeof indicators | typeof goals | typeof directions | typeof plans;

/** Child, parent and the join condition, from the bottom of the tree up. */
const LINKS: readonly { child: TreeLevel; parent: TreeLevel; on: SQL }[] = [
  { child: indicators, parent: goals, on: eq(goals.id, indicators.goalId) },
  { child: goals, parent: directions, on: eq(directions.id, goals.directionId) },
  { child: directions, parent: plans, on: eq(plans.id, directions.planId) },
];

/** The links between `bottom` and `top` (bottom first). */
function between(bottom: TreeLevel, top: TreeLevel) {
  const start = LINKS.findIndex((l) => l.child === bottom);
  const end = LINKS.findIndex((l) => l.parent === top);
  if (start < 0 || end < start) throw new Error('plan tree: bottom must lie below top');
  return LINKS.slice(start, end + 1);
}

/** Inner-joins the tables above `from` (already in the query) up to `to`. */
export function joinUp<T extends Select>(query: T, from: TreeLevel, to: TreeLevel = plans): Joined<T> {
  let q = query;
  for (const link of between(from, to)) q = q.innerJoin(link.parent, link.on) as unknown as T;
  return q as unknown as Joined<T>;
}

/** Left-joins the tables below `from` (already in the query) down to `to`: empty sections stay, as nulls. */
export function joinDown<T extends Select>(query: T, from: TreeLevel = plans, to: TreeLevel = indicators): T {
  let q = query;
  for (const link of between(to, from).reverse()) q = q.leftJoin(link.child, link.on) as unknown as T;
  return q;
}

/** joinUp as an SQL fragment for statements written by hand: `inner join "goals" on ... `. */
export function joinUpSql(from: TreeLevel, to: TreeLevel = plans): SQL {
  return sql.join(
    between(from, to).map((link) => sql`inner join ${link.parent} on ${link.on}`),
    sql` `,
  );
}

/** The inner joins from `from` down to `to` as an SQL fragment (every table named as in the schema). */
export function joinDownSql(from: TreeLevel = plans, to: TreeLevel = indicators): SQL {
  return sql.join(
    between(to, from)
      .reverse()
      .map((link) => sql`inner join ${link.child} on ${link.on}`),
    sql` `,
  );
}

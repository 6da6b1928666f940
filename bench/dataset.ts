/**
 * A deterministic scale dataset, generated inside PostgreSQL with set-based INSERT ... SELECT
 * over generate_series (no row goes through Node). Ids are md5-derived UUIDs and values come
 * from random() after setseed(), so two runs of the same size produce the same database.
 *
 * Plan 0 has 19 indicators (the size of the 2016 demo plan), plan 1 has 300, plans 2.. have 100
 * each; every indicator has a measurement for each of the 10 plan years 2016..2025.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

export const FIRST_YEAR = 2016;
export const LAST_YEAR = 2025;
export const YEARS = LAST_YEAR - FIRST_YEAR + 1;
export const BENCH_YEAR = 2020;
const GENERIC_INDICATORS = 100;
const ORGANIZATIONS = 20;

export const planUuid = (p: number) => md5Uuid(`plan${p}`);

function md5Uuid(text: string): string {
  // Same as id() in SQL below, for ids the bench needs to know.
  return createHashHex(text).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
}
function createHashHex(text: string): string {
  return versioned(createHash('md5').update(text).digest('hex'));
}

/** An md5 made a valid RFC 9562 UUID (version 4, variant 10): zod's uuid() is strict. */
const versioned = (hex: string) => `${hex.slice(0, 12)}4${hex.slice(13, 16)}8${hex.slice(17)}`;

/** The same in SQL: id("'plan' || p") is the uuid of md5('plan' || p), versioned. */
const id = (expr: string) => `overlay(overlay(md5(${expr}) placing '4' from 13) placing '8' from 17)::uuid`;

/** How many generic plans give about `measurements` measurements in total. */
export function plansFor(measurements: number): number {
  const special = (19 + 300) * YEARS;
  return 2 + Math.max(0, Math.round((measurements - special) / (GENERIC_INDICATORS * YEARS)));
}

/** Shape of plan p: indicator count, indicators per goal, goals per direction. */
const shapeSql = (from: number, to: number) => `
  select p,
         case p when 0 then 19 when 1 then 300 else ${GENERIC_INDICATORS} end as n,
         case p when 0 then 4 when 1 then 6 else 5 end as ipg,
         case p when 0 then 2 when 1 then 5 else 5 end as gpd
  from generate_series(${from}, ${to - 1}) p`;

const loc = (prefix: string, expr: string) =>
  `jsonb_build_object('kk', '${prefix} ' || ${expr}, 'ru', '${prefix} ' || ${expr} || ' (ru)', 'en', '${prefix} ' || ${expr} || ' (en)')`;

/** Adds plans [from, to) with their tree and measurements (organizations on the first call). */
export async function generate(client: pg.ClientBase, from: number, to: number): Promise<void> {
  await client.query('select setseed(0.2016)');
  if (from === 0) {
    await client.query(`insert into organizations (id, code, name)
      select ${id("'org' || o")}, 'ORG-' || o, ${loc('Organization', 'o')} from generate_series(0, ${ORGANIZATIONS - 1}) o`);
  }
  await client.query(`create temp table if not exists shape (p int, n int, ipg int, gpd int, goals int, dirs int)`);
  await client.query('truncate shape');
  await client.query(
    `insert into shape select p, n, ipg, gpd, (n + ipg - 1) / ipg, ((n + ipg - 1) / ipg + gpd - 1) / gpd from (${shapeSql(from, to)}) s`,
  );
  await client.query(`insert into plans (id, organization_id, code, title, start_year, end_year)
    select ${id("'plan' || p")}, ${id(`'org' || (p % ${ORGANIZATIONS})`)}, 'P-' || p, ${loc('Plan', 'p')}, ${FIRST_YEAR}, ${LAST_YEAR}
    from shape`);
  await client.query(`insert into directions (id, plan_id, code, title, position)
    select ${id("'dir' || p || '.' || d")}, ${id("'plan' || p")}, (d + 1)::text, ${loc('Direction', "p || '.' || d")}, d + 1
    from shape, generate_series(0, dirs - 1) d`);
  await client.query(`insert into goals (id, direction_id, code, title, position)
    select ${id("'goal' || p || '.' || g")}, ${id("'dir' || p || '.' || (g / gpd)")},
           (g / gpd + 1) || '.' || (g % gpd + 1), ${loc('Goal', "p || '.' || g")}, g % gpd + 1
    from shape, generate_series(0, goals - 1) g`);
  // Every 10th indicator is a rank (lower is better), every 7th a lower-is-better percentage.
  await client.query(`insert into indicators (id, goal_id, code, name, unit, source, value_type, better_when, position)
    select ${id("'ind' || p || '.' || k")}, ${id("'goal' || p || '.' || (k / ipg)")},
           (k / ipg / gpd + 1) || '.' || ((k / ipg) % gpd + 1) || '.' || (k % ipg + 1),
           ${loc('Indicator', "p || '.' || k")}, '{"kk":"%","ru":"%","en":"%"}'::jsonb, ${loc('Source', 'p')},
           case when k % 10 = 9 then 'rank' when k % 3 = 0 then 'number' else 'percent' end,
           case when k % 10 = 9 or k % 7 = 3 then 'lower' else 'higher' end,
           k % ipg + 1
    from shape, generate_series(0, n - 1) k
    order by p, k`);
  // About 10% of facts missing (pending), 3% of targets missing (no_target).
  await client.query(`insert into measurements (id, indicator_id, year, plan, fact, rating_size, score)
    select ${id("'m' || i.id || i.y")}, i.id, i.y,
           case when r1 < 0.03 then null when i.value_type = 'rank' then 1 + floor(r2 * 60) else round((r2 * 100)::numeric, 1) end,
           case when r3 < 0.1 then null when i.value_type = 'rank' then 1 + floor(r2 * 60 * (0.8 + r3 * 0.4))
                else round((r2 * 100 * (0.8 + r3 * 0.4))::numeric, 1) end,
           case when i.value_type = 'rank' then 180 end, null
    from (select i.id, i.value_type, s.p, y, random() as r1, random() as r2, random() as r3
            from indicators i
            join goals g on g.id = i.goal_id join directions d on d.id = g.direction_id
            join shape s on ${id("'plan' || s.p")} = d.plan_id,
            generate_series(${FIRST_YEAR}, ${LAST_YEAR}) y) i
    order by i.p, i.id, i.y`);
  // vacuum too, as autovacuum would have by the time a database of this size serves reads: until then every
  // index scan also visits the heap to check visibility (100,019 extra reads a year's export).
  await client.query('vacuum analyze');
}

export async function counts(
  client: pg.ClientBase,
): Promise<{ plans: number; indicators: number; measurements: number }> {
  const { rows } = await client.query<{ plans: string; indicators: string; measurements: string }>(
    'select (select count(*) from plans) as plans, (select count(*) from indicators) as indicators, (select count(*) from measurements) as measurements',
  );
  return {
    plans: Number(rows[0]!.plans),
    indicators: Number(rows[0]!.indicators),
    measurements: Number(rows[0]!.measurements),
  };
}

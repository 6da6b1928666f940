/** Keyset pagination's condition: rows after the cursor's sort key (src/http/pagination.ts encodes the cursor). */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/** `(k1, k2, ...) > (v1, v2, ...)` for ascending keys (`<` for descending ones). */
export function after(columns: AnyPgColumn[], values: unknown[], direction: 'asc' | 'desc' = 'asc'): SQL {
  const left = sql.join(
    columns.map((c) => sql`${c}`),
    sql`, `,
  );
  const right = sql.join(
    values.map((v, i) => sql`${v}::${sql.raw(sqlTypeOf(columns[i]!))}`),
    sql`, `,
  );
  return direction === 'asc' ? sql`(${left}) > (${right})` : sql`(${left}) < (${right})`;
}

// Serial columns name a column default, not a type a value can be cast to.
const SERIAL_TYPES: Record<string, string> = { smallserial: 'smallint', serial: 'integer', bigserial: 'bigint' };

function sqlTypeOf(column: AnyPgColumn): string {
  const type = column.getSQLType();
  return SERIAL_TYPES[type] ?? type;
}

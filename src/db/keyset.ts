/** Keyset pagination's condition: rows after the cursor's sort key (src/http/pagination.ts encodes the cursor). */
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/** `(k1, k2, ...) > (v1, v2, ...)` for ascending keys. */
export function after(columns: AnyPgColumn[], values: unknown[]): SQL {
  const left = sql.join(columns.map((c) => sql`${c}`), sql`, `);
  const right = sql.join(
    values.map((v, i) => sql`${v}::${sql.raw(sqlTypeOf(columns[i]!))}`),
    sql`, `,
  );
  return sql`(${left}) > (${right})`;
}

function sqlTypeOf(column: AnyPgColumn): string {
  return column.getSQLType();
}

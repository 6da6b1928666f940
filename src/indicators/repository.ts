/** The indicators' own SQL and row mapping (their generic writes are src/crud/). */
import { describeDeleted } from '../db/hierarchy.js';
import { indicators } from '../db/schema.js';
import { iso } from '../shared/decimal.js';
import type { Indicator } from './schemas.js';

export type IndicatorRow = typeof indicators.$inferSelect;

export const toIndicatorDto = (row: IndicatorRow): Indicator => ({
  id: row.id,
  goalId: row.goalId,
  code: row.code,
  name: row.name,
  unit: row.unit,
  source: row.source,
  valueType: row.valueType,
  betterWhen: row.betterWhen,
  group: row.group ?? null,
  position: row.position,
  weight: Number(row.weight),
  version: row.version,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
});

// A cascade delete audits each removed indicator in its API form.
describeDeleted(indicators, (row) => ({ before: toIndicatorDto(row as unknown as IndicatorRow) }));

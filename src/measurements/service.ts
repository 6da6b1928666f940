/**
 * Measurement writes: PUT, PATCH, DELETE of one indicator-year, and the bulk batch. Each owns its
 * transaction: the indicator and plan share-locked, the stored measurement locked, the rules
 * checked, the year checked open, If-Match honoured, written and audited together. No HTTP here:
 * the caller passes the actor and the parsed If-Match, and gets domain errors back.
 */
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { assertYearOpen } from '../approvals/repository.js';
import { recordAudit } from '../audit/record.js';
import type { Actor } from '../shared/actor.js';
import { NotFoundError, invalid, notFound } from '../shared/errors.js';
import type { IfMatch } from '../shared/if-match.js';
import { checkIfMatch } from '../shared/if-match.js';
import { applyMergePatch } from '../shared/merge-patch.js';
import { assertServable } from '../shared/servable.js';
import { bulkPutMeasurements } from './bulk.js';
import type { BulkRow } from './bulk.js';
import type { MeasurementRow, MeasurementValues } from './repository.js';
import {
  deleteMeasurement,
  findMeasurement,
  indicatorContext,
  toMeasurementDto,
  upsertMeasurement,
} from './repository.js';
import { allowedYears, measurementProblems } from './rules.js';
import type { z } from 'zod';
import { Measurement, MeasurementPut } from './schemas.js';
import type { MeasurementPatch as MeasurementPatchSchema } from './schemas.js';

type MeasurementPatch = z.output<typeof MeasurementPatchSchema>;

export interface MeasurementKey {
  indicatorId: string;
  year: number;
}

const noMeasurement = (k: MeasurementKey) =>
  new NotFoundError(`indicator ${k.indicatorId} has no measurement for ${k.year}`);

/** What a PATCH merges onto: the stored values (all null when nothing is stored). */
function storedValues(current: MeasurementRow | undefined): MeasurementValues {
  const dto = current ? toMeasurementDto(current) : undefined;
  return {
    plan: dto?.plan ?? null,
    fact: dto?.fact ?? null,
    ratingSize: dto?.ratingSize ?? null,
    score: dto?.score ?? null,
    note: dto?.note ?? null,
  };
}

/** The PATCH merged onto what is stored; the PUT's schema decides what a merged measurement may be (an emptied note, for one). */
export function mergeMeasurementPatch(current: MeasurementRow | undefined, patch: MeasurementPatch): MeasurementValues {
  const merged = MeasurementPut.safeParse(applyMergePatch(storedValues(current), patch));
  if (!merged.success) {
    throw invalid(
      'The patched measurement is not valid; see errors.',
      merged.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })),
    );
  }
  return merged.data;
}

export function measurementService(deps: { db: Db }) {
  const { db } = deps;

  /**
   * PUT and PATCH share one write: `valuesFor(current)` (the PUT body, or the PATCH merged onto what
   * is stored) checked by the same rules. Answers the stored row and whether it was created.
   */
  async function write(
    actor: Actor,
    key: MeasurementKey,
    ifMatch: IfMatch,
    valuesFor: (current: MeasurementRow | undefined) => MeasurementValues,
  ) {
    const { indicatorId, year } = key;
    return db.transaction(async (tx) => {
      const context = await indicatorContext(tx, indicatorId, true);
      if (!context) throw notFound('indicator', indicatorId);
      const current = await findMeasurement(tx, indicatorId, year, true);
      const values = valuesFor(current);
      const years = allowedYears(context);
      const problems = measurementProblems(context.valueType, values);
      if (year < years.from || year > years.to) {
        problems.unshift({
          path: 'params.year',
          message: `the year must lie in ${years.from}..${years.to} for this plan`,
        });
      }
      if (problems.length > 0) throw invalid('The measurement is not valid for this indicator; see errors.', problems);
      await assertYearOpen(tx, context.planId, year);
      checkIfMatch(ifMatch, current?.version);
      const row = await upsertMeasurement(tx, indicatorId, year, values);
      await recordAudit(tx, actor, {
        entityType: 'measurement',
        entityId: row.id,
        entityKey: `${indicatorId}/${year}`,
        action: current ? 'update' : 'create',
        before: current ? toMeasurementDto(current) : null,
        after: assertServable(Measurement, toMeasurementDto(row)),
      });
      return row;
    });
  }

  return {
    /** Creates or replaces the whole measurement (fields left out are cleared). */
    put: (actor: Actor, key: MeasurementKey, values: MeasurementValues, ifMatch: IfMatch) =>
      write(actor, key, ifMatch, () => values),

    /** A JSON merge patch onto the stored measurement (or onto nothing: the patch creates it). */
    patch: (actor: Actor, key: MeasurementKey, patch: MeasurementPatch, ifMatch: IfMatch) =>
      write(actor, key, ifMatch, (current) => mergeMeasurementPatch(current, patch)),

    async remove(actor: Actor, key: MeasurementKey, ifMatch: IfMatch): Promise<void> {
      const { indicatorId, year } = key;
      await db.transaction(async (tx) => {
        const context = await indicatorContext(tx, indicatorId, true);
        const current = context ? await findMeasurement(tx, indicatorId, year, true) : undefined;
        if (!context || !current) throw noMeasurement(key);
        checkIfMatch(ifMatch, current.version);
        await assertYearOpen(tx, context.planId, year);
        await deleteMeasurement(tx, indicatorId, year);
        await recordAudit(tx, actor, {
          entityType: 'measurement',
          entityId: current.id,
          entityKey: `${indicatorId}/${year}`,
          action: 'delete',
          before: toMeasurementDto(current),
        });
      });
    },

    /** The all-or-nothing batch of POST /measurements/bulk (src/measurements/bulk.ts). */
    bulk: (actor: Actor, rows: BulkRow[], options: { dryRun: boolean; details: boolean }) =>
      db.transaction((tx: Tx) => bulkPutMeasurements(tx, actor, rows, options)),

    /** One measurement, or NotFoundError. */
    async get(key: MeasurementKey, executor: Db = db) {
      const row = await findMeasurement(executor, key.indicatorId, key.year);
      if (!row) throw noMeasurement(key);
      return row;
    },
  };
}

export type MeasurementService = ReturnType<typeof measurementService>;

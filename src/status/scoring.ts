/**
 * Which evaluation method scores a status answer, and the forecasts a plan status may ask for.
 * Plans without a method (and years approved without one) take the built-in default with no
 * read at all; otherwise one small read of the method versions (src/evaluation-methods/service.ts).
 */
import type { Forecast } from '../achievement/forecast.js';
import { forecastTarget } from '../achievement/forecast.js';
import { DEFAULT_RULES } from '../achievement/methods.js';
import type { Db } from '../db/client.js';
import type { RuleBook, RuleSource } from '../evaluation-methods/service.js';
import { ruleBookFor, rulesOf } from '../evaluation-methods/service.js';
import type { PlanScoring, Scoring } from './assemble.js';
import type { PlanStatusData } from './queries.js';
import { forecastRows } from './queries.js';

/** The scoring of a plan year: the approved year's method version, else the plan's method now, else the default. */
export async function planScoring(
  db: Db,
  data: PlanStatusData,
  year: number,
  now: Date,
  withForecast: boolean,
): Promise<PlanScoring> {
  const source: RuleSource = {
    approved: data.approval !== null,
    approvalMethodVersionId: data.approval?.evaluationMethodVersionId ?? null,
    planMethodId: data.plan.evaluationMethodId,
  };
  const [book, forecasts] = await Promise.all([
    ruleBookFor(db, [source]),
    withForecast ? planForecasts(db, data, year) : Promise.resolve(undefined),
  ]);
  const { versionId, rules } = rulesOf(book, source);
  return {
    rules,
    now,
    method: { methodId: data.plan.evaluationMethodId, versionId, rules },
    ...(forecasts ? { forecasts } : {}),
  };
}

/** Forecasts of the plan's final-year targets from the facts up to `year`, by indicator id. */
async function planForecasts(db: Db, data: PlanStatusData, year: number): Promise<Map<string, Forecast>> {
  const rows = await forecastRows(db, data.plan.id, year, data.plan.endYear);
  const byIndicator = new Map<string, typeof rows>();
  for (const row of rows) {
    const list = byIndicator.get(row.indicatorId) ?? [];
    list.push(row);
    byIndicator.set(row.indicatorId, list);
  }
  const forecasts = new Map<string, Forecast>();
  for (const tree of data.rows) {
    if (tree.indicatorId === null) continue;
    const measured = byIndicator.get(tree.indicatorId) ?? [];
    const target = measured.find((m) => m.year === data.plan.endYear)?.plan ?? null;
    forecasts.set(tree.indicatorId, forecastTarget(measured, year, data.plan.endYear, target, tree.betterWhen));
  }
  return forecasts;
}

/** Per-row scoring for flat reads (rows of many plans): one rule book for the page, only when a row needs one. */
export async function rowScorer(db: Db, rows: readonly RuleSource[], now: Date): Promise<(row: RuleSource) => Scoring> {
  const book: RuleBook | undefined = await ruleBookFor(db, rows);
  if (!book) {
    const fallback: Scoring = { rules: DEFAULT_RULES, now }; // the default path: one object for the whole page
    return () => fallback;
  }
  return (row) => ({ rules: rulesOf(book, row).rules, now });
}

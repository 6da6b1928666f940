/**
 * Audit rows -> events (docs/webhooks.md, the table under "The outbox is the audit trail"). Pure: the
 * plan context of the batch and the scoring rules come in, events go out; no I/O, no clock.
 *
 * Each event carries ids, codes, the plan (with its organization) and the year where there is one,
 * and `links.self`, the API path of the resource, which is also its CloudEvents subject.
 */
import { createHash } from 'node:crypto';
import { computeIndicatorStatus } from '../../achievement/compute.js';
import type { AchievementStatus, BetterWhen, NumericInput, ValueType } from '../../achievement/compute.js';
import type { EvaluationRules } from '../../achievement/methods.js';
import { evaluateWith } from '../../achievement/methods.js';
import type { EventType } from '../catalog.js';
import type { EventData } from '../event-schemas.js';
import type { AuditRow, MeasurementValues, NewEvent, TreeContext } from './repository.js';

/** The API's base path (src/app.ts API_PREFIX; not imported: data code does not import HTTP code). */
const API = '/api/v1';

/** The audit trail's entity types that make events, and the plan rows that only give context to them. */
export const RELAYED_ENTITY_TYPES = [
  'measurement',
  // Approvals record 'yearApproval'; 'year_approval' is the sync tombstones' name, accepted should a row ever carry it.
  'yearApproval',
  'year_approval',
  'direction',
  'goal',
  'indicator',
  'reportSignature',
  'plan',
] as const;

const STRUCTURE = new Map<string, { type: 'direction' | 'goal' | 'indicator'; plural: string }>([
  ['direction', { type: 'direction', plural: 'directions' }],
  ['goal', { type: 'goal', plural: 'goals' }],
  ['indicator', { type: 'indicator', plural: 'indicators' }],
]);

type Json = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

/** "<id>/<year>" (measurements, plan-year documents, approvals). */
function splitKey(key: string | null): { id: string | null; year: number | null } {
  const m = key === null ? null : /^([^/]+)\/(\d{1,4})$/.exec(key);
  return m ? { id: m[1]!, year: Number(m[2]) } : { id: null, year: null };
}

export interface PlanRef {
  id: string;
  code: string | null;
  organizationId: string | null;
  methodId: string | null;
}

interface Node {
  code: string | null;
  /** Set when read from the database: the plan the row sits in now. */
  planId?: string;
  /** Set when known only from an audit row of the batch (a deleted row): the parent's id. */
  parentId?: string | null;
  valueType?: ValueType | null;
  betterWhen?: BetterWhen | null;
}

/**
 * Where each row of a batch sits: the database's answer first, then, for rows deleted meanwhile, what
 * the batch's own audit rows say (a cascade delete records the indicator, goal, direction and plan too).
 */
export class PlanTree {
  private readonly nodes = new Map<string, Node>();
  private readonly plans = new Map<string, PlanRef>();

  constructor(context: readonly TreeContext[], rows: readonly AuditRow[]) {
    for (const c of context) {
      this.plans.set(c.planId, {
        id: c.planId,
        code: c.planCode,
        organizationId: c.organizationId,
        methodId: c.planMethodId,
      });
      this.nodes.set(c.id, { code: c.code, planId: c.planId, valueType: c.valueType, betterWhen: c.betterWhen });
    }
    for (const row of rows) {
      const doc = row.after ?? row.before;
      if (!doc || this.nodes.has(row.entityId)) continue;
      if (row.entityType === 'plan') {
        if (!this.plans.has(row.entityId)) {
          this.plans.set(row.entityId, {
            id: row.entityId,
            code: str(doc.code),
            organizationId: str(doc.organizationId),
            methodId: str(doc.evaluationMethodId),
          });
        }
        continue;
      }
      const parentField = { direction: 'planId', goal: 'directionId', indicator: 'goalId' }[row.entityType];
      if (!parentField) continue;
      this.nodes.set(row.entityId, {
        code: str(doc.code),
        parentId: str(doc[parentField]),
        valueType: str(doc.valueType) as ValueType | null,
        betterWhen: str(doc.betterWhen) as BetterWhen | null,
      });
    }
  }

  node(id: string | null): Node | undefined {
    return id === null ? undefined : this.nodes.get(id);
  }

  /** The plan of a direction, goal or indicator (or of a plan id), walking up through deleted rows. */
  planOf(id: string | null): PlanRef | null {
    let current = id;
    for (let depth = 0; current !== null && depth < 4; depth++) {
      const node = this.nodes.get(current);
      if (!node) return this.plans.get(current) ?? null;
      if (node.planId) return this.plans.get(node.planId) ?? null;
      current = node.parentId ?? null;
    }
    return null;
  }

  /** A plan id known only by its id (its row and audit rows out of reach): a bare reference. */
  planById(id: string | null): PlanRef | null {
    if (id === null) return null;
    return this.plans.get(id) ?? { id, code: null, organizationId: null, methodId: null };
  }
}

/** status, percent and band: what a status_changed event compares and reports. */
export interface Verdict {
  status: AchievementStatus;
  percent: number | null;
  band: string | null;
}

/** The rule the status read model uses (src/status/assemble.ts toIndicatorStatus), on one measurement's values. */
export function verdictOf(
  values: Json | null,
  indicator: { valueType: ValueType; betterWhen: BetterWhen },
  year: number,
  rules: EvaluationRules,
  now: Date,
): Verdict {
  const input = {
    valueType: indicator.valueType,
    betterWhen: indicator.betterWhen,
    plan: (values?.plan ?? null) as NumericInput,
    fact: (values?.fact ?? null) as NumericInput,
    ratingSize: (values?.ratingSize ?? null) as NumericInput,
    year,
  };
  const base = computeIndicatorStatus(input);
  const method = evaluateWith(rules, input, base, now);
  return { status: base.status, percent: base.achievementPercent, band: method.band?.code ?? null };
}

const sameVerdict = (a: Verdict, b: Verdict) => a.status === b.status && a.percent === b.percent && a.band === b.band;

export interface EventInputs {
  tree: PlanTree;
  /** The evaluation rules of a plan (its method now; measurements are only written in open years). */
  rulesOf(plan: PlanRef | null): EvaluationRules;
  now: Date;
  /** The stored measurements of indicators whose direction or value type an edit changed (rescoreIndicators). */
  measurementsOf?: (indicatorId: string) => readonly MeasurementValues[];
}

const planJson = (plan: PlanRef | null) =>
  plan ? { id: plan.id, code: plan.code, organizationId: plan.organizationId } : null;

/** One event; its data has the shape its type publishes (src/webhooks/event-schemas.ts). */
function event<T extends EventType>(
  inputs: EventInputs,
  row: AuditRow,
  type: T,
  plan: PlanRef | null,
  self: string,
  data: EventData<T>,
): NewEvent {
  return {
    id: '', // eventsOf names it (eventIds)
    type,
    source: plan ? `${API}/plans/${plan.id}` : API,
    subject: self,
    organizationId: plan?.organizationId ?? null,
    planId: plan?.id ?? null,
    auditId: row.id,
    time: row.at,
    data: { ...data, links: { self } },
  };
}

const MEASUREMENT_TYPES: Record<string, EventType> = {
  create: 'kz.nysana.measurement.created',
  update: 'kz.nysana.measurement.updated',
  delete: 'kz.nysana.measurement.deleted',
};

function measurementEvents(inputs: EventInputs, row: AuditRow): NewEvent[] {
  const type = MEASUREMENT_TYPES[row.action];
  if (!type) return [];
  const doc = row.after ?? row.before ?? {};
  const key = splitKey(row.entityKey);
  const indicatorId = str(doc.indicatorId) ?? key.id;
  const year = int(doc.year) ?? key.year;
  if (indicatorId === null || year === null) return [];
  const node = inputs.tree.node(indicatorId);
  const plan = inputs.tree.planOf(indicatorId);
  const indicator = { id: indicatorId, code: node?.code ?? null };
  const self = `${API}/indicators/${indicatorId}/measurements/${year}`;
  const events = [
    event(inputs, row, type, plan, self, {
      measurement: { id: row.entityId, indicatorId, year },
      indicator,
      plan: planJson(plan),
      year,
      before: row.before,
      after: row.after,
    }),
  ];
  // Scored only when the indicator's value type and direction are known (from the database or the batch).
  if (node?.valueType && node.betterWhen) {
    const rules = inputs.rulesOf(plan);
    const scored = { valueType: node.valueType, betterWhen: node.betterWhen };
    const before = verdictOf(row.before, scored, year, rules, inputs.now);
    const after = verdictOf(row.after, scored, year, rules, inputs.now);
    if (!sameVerdict(before, after)) {
      const statusSelf = `${API}/indicators/${indicatorId}/status?year=${year}`;
      events.push(
        event(inputs, row, 'kz.nysana.indicator.status_changed', plan, statusSelf, {
          indicator,
          plan: planJson(plan),
          year,
          before,
          after,
        }),
      );
    }
  }
  return events;
}

/** The plan and year an approval or signature row is about: from its document, else its "<planId>/<year>" key. */
function planYearOf(inputs: EventInputs, row: AuditRow) {
  const doc = row.after ?? row.before ?? {};
  const key = splitKey(row.entityKey);
  const planId = str(doc.planId) ?? key.id;
  const year = int(doc.year) ?? key.year;
  if (planId === null || year === null) return null;
  return { planId, year, plan: inputs.tree.planOf(planId) ?? inputs.tree.planById(planId) };
}

function approvalEvents(inputs: EventInputs, row: AuditRow): NewEvent[] {
  const type =
    row.action === 'approve' ? 'kz.nysana.year.approved' : row.action === 'reopen' ? 'kz.nysana.year.reopened' : null;
  if (!type) return [];
  const at = planYearOf(inputs, row);
  if (!at) return [];
  const { planId, year, plan } = at;
  return [
    event(inputs, row, type, plan, `${API}/plans/${planId}/years`, {
      plan: planJson(plan),
      year,
      approval: { id: row.entityId, ...(row.action === 'approve' ? row.after : row.before) },
      ...(row.action === 'reopen' ? { reason: str(row.after?.reason) } : {}),
    }),
  ];
}

type WriteAction = 'create' | 'update' | 'delete';
const isWrite = (action: string): action is WriteAction =>
  action === 'create' || action === 'update' || action === 'delete';

function structureEvents(
  inputs: EventInputs,
  row: AuditRow,
  { type, plural }: { type: 'direction' | 'goal' | 'indicator'; plural: string },
): NewEvent[] {
  const { action } = row;
  if (!isWrite(action)) return [];
  const doc = row.after ?? row.before ?? {};
  const plan = inputs.tree.planOf(row.entityId);
  return [
    event(inputs, row, 'kz.nysana.plan.structure_changed', plan, `${API}/${plural}/${row.entityId}`, {
      plan: planJson(plan),
      entity: { type, id: row.entityId, code: str(doc.code) },
      action,
      before: row.before,
      after: row.after,
    }),
    ...rescoredEvents(inputs, row, plan),
  ];
}

const scoringOf = (doc: Json | null) => {
  const valueType = str(doc?.valueType) as ValueType | null;
  const betterWhen = str(doc?.betterWhen) as BetterWhen | null;
  return valueType && betterWhen ? { valueType, betterWhen } : null;
};

/** An indicator edit that changes how its measurements are scored (value type, direction). */
export function rescoresIndicator(row: AuditRow): boolean {
  if (row.entityType !== 'indicator' || row.action !== 'update') return false;
  const before = scoringOf(row.before);
  const after = scoringOf(row.after);
  return !!before && !!after && (before.valueType !== after.valueType || before.betterWhen !== after.betterWhen);
}

/**
 * The status changes an indicator edit causes, where computable: each stored measurement scored under the
 * indicator before and after the edit. The values are those stored when the relay runs (a later change to
 * a measurement brings its own events).
 */
function rescoredEvents(inputs: EventInputs, row: AuditRow, plan: PlanRef | null): NewEvent[] {
  if (!rescoresIndicator(row) || !inputs.measurementsOf) return [];
  const before = scoringOf(row.before)!;
  const after = scoringOf(row.after)!;
  const rules = inputs.rulesOf(plan);
  const indicator = { id: row.entityId, code: str(row.after?.code) };
  const events: NewEvent[] = [];
  for (const m of inputs.measurementsOf(row.entityId)) {
    const values = { plan: m.plan, fact: m.fact, ratingSize: m.ratingSize };
    const was = verdictOf(values, before, m.year, rules, inputs.now);
    const is = verdictOf(values, after, m.year, rules, inputs.now);
    if (sameVerdict(was, is)) continue;
    const self = `${API}/indicators/${row.entityId}/status?year=${m.year}`;
    events.push(
      event(inputs, row, 'kz.nysana.indicator.status_changed', plan, self, {
        indicator,
        plan: planJson(plan),
        year: m.year,
        before: was,
        after: is,
      }),
    );
  }
  return events;
}

function signatureEvents(inputs: EventInputs, row: AuditRow): NewEvent[] {
  const { action } = row;
  if (!isWrite(action)) return [];
  const at = planYearOf(inputs, row);
  if (!at) return [];
  const { planId, year, plan } = at;
  return [
    event(inputs, row, 'kz.nysana.report.signatory_changed', plan, `${API}/plans/${planId}/reports/${year}/signature`, {
      plan: planJson(plan),
      year,
      action,
      before: row.before,
      after: row.after,
    }),
  ];
}

/** The events of one audit row, in the order they are written (a measurement's own event before its status change). */
export function eventsOf(inputs: EventInputs, row: AuditRow): NewEvent[] {
  return eventIds(row, rowEvents(inputs, row));
}

function rowEvents(inputs: EventInputs, row: AuditRow): NewEvent[] {
  switch (row.entityType) {
    case 'measurement':
      return measurementEvents(inputs, row);
    case 'yearApproval':
    case 'year_approval':
      return approvalEvents(inputs, row);
    case 'reportSignature':
      return signatureEvents(inputs, row);
    default: {
      const structure = STRUCTURE.get(row.entityType);
      return structure ? structureEvents(inputs, row, structure) : [];
    }
  }
}

/** The UUID namespace of relayed events' ids (a random constant: name-based ids of other software differ). */
const EVENT_ID_NAMESPACE = Buffer.from('6f1d3c0e9b2a4e57a8c4d2b7e5f90c13', 'hex');

/**
 * A name-based UUID (RFC 9562 version 5) of the string `name` in EVENT_ID_NAMESPACE: the same name, the same id.
 */
export function nameBasedUuid(name: string): string {
  const hash = createHash('sha1').update(EVENT_ID_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * An event's id (its webhook-id) follows from what it is: the audit row it comes from (id and time), its type
 * and its subject, so a relay run that is lost and redone gives its events the ids they had, and a change sent
 * twice reaches a receiver twice under one webhook-id, which it drops. That lets the relay commit without
 * waiting for the flush (relay/service.ts). The row's time keeps ids apart should a restored database hand out
 * an audit id again; the rare second event of one type and subject from one row is numbered.
 */
function eventIds(row: AuditRow, events: NewEvent[]): NewEvent[] {
  const seen = new Map<string, number>();
  for (const e of events) {
    const name = `${row.id}/${row.at.toISOString()}/${e.type}/${e.subject ?? ''}`;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    e.id = nameBasedUuid(n === 0 ? name : `${name}#${n}`);
  }
  return events;
}

/** The ids a batch needs the plan context of (one query for the whole batch). */
export function contextIdsOf(rows: readonly AuditRow[]) {
  const ids = { plans: [] as string[], directions: [] as string[], goals: [] as string[], indicators: [] as string[] };
  for (const row of rows) {
    const doc = row.after ?? row.before ?? {};
    const key = splitKey(row.entityKey);
    switch (row.entityType) {
      case 'measurement': {
        const id = str(doc.indicatorId) ?? key.id;
        if (id) ids.indicators.push(id);
        break;
      }
      // The row itself and its parent: when the row is gone (a delete), the parent may still be there.
      case 'direction':
        ids.directions.push(row.entityId);
        if (str(doc.planId)) ids.plans.push(str(doc.planId)!);
        break;
      case 'goal':
        ids.goals.push(row.entityId);
        if (str(doc.directionId)) ids.directions.push(str(doc.directionId)!);
        break;
      case 'indicator':
        ids.indicators.push(row.entityId);
        if (str(doc.goalId)) ids.goals.push(str(doc.goalId)!);
        break;
      default: {
        // plan, approvals, signatures: the plan itself
        const id = row.entityType === 'plan' ? row.entityId : (str(doc.planId) ?? key.id);
        if (id) ids.plans.push(id);
      }
    }
  }
  return ids;
}

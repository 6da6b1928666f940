/**
 * The relay's pure mapping (src/webhooks/relay/events.ts) at its edges: rows whose plan is gone, rows the
 * trail spells differently, rows that make no event. No database: the context is given.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/achievement/methods.js';
import { PlanTree, contextIdsOf, eventsOf } from '../../src/webhooks/relay/events.js';
import type { AuditRow, TreeContext } from '../../src/webhooks/relay/repository.js';

const PLAN = '00000000-0000-4000-8000-000000000001';
const ORG = '00000000-0000-4000-8000-000000000002';
const DIRECTION = '00000000-0000-4000-8000-000000000003';
const GOAL = '00000000-0000-4000-8000-000000000004';
const INDICATOR = '00000000-0000-4000-8000-000000000005';
const at = new Date('2026-12-07T00:00:00.000Z');

let nextId = 1;
const row = (r: Partial<AuditRow> & Pick<AuditRow, 'entityType' | 'entityId' | 'action'>): AuditRow => ({
  id: nextId++,
  changeXid: 100,
  at,
  entityKey: null,
  before: null,
  after: null,
  ...r,
});

const inputs = (context: TreeContext[], rows: AuditRow[]) => ({
  tree: new PlanTree(context, rows),
  rulesOf: () => DEFAULT_RULES,
  now: at,
});

describe('audit rows to events', () => {
  it('a measurement of an indicator that is gone and not in the batch: an event without plan, no status change', () => {
    const m = row({
      entityType: 'measurement',
      entityId: 'm1',
      entityKey: `${INDICATOR}/2016`,
      action: 'delete',
      before: { id: 'm1', indicatorId: INDICATOR, year: 2016, plan: 1, fact: 2 },
    });
    const events = eventsOf(inputs([], [m]), m);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'kz.nysana.measurement.deleted',
      source: '/api/v1',
      subject: `/api/v1/indicators/${INDICATOR}/measurements/2016`,
      organizationId: null,
      planId: null,
      auditId: m.id,
      time: at,
      data: { indicator: { id: INDICATOR, code: null }, plan: null, year: 2016 },
    });
  });

  it('a cascade delete: the deleted indicator, goal, direction and plan of the batch give the plan and codes', () => {
    const rows = [
      row({
        entityType: 'measurement',
        entityId: 'm1',
        entityKey: `${INDICATOR}/2015`,
        action: 'delete',
        before: { indicatorId: INDICATOR, year: 2015, plan: 10, fact: 5 },
      }),
      row({
        entityType: 'indicator',
        entityId: INDICATOR,
        action: 'delete',
        before: { goalId: GOAL, code: '1.1.1', valueType: 'number', betterWhen: 'lower' },
      }),
      row({ entityType: 'goal', entityId: GOAL, action: 'delete', before: { directionId: DIRECTION, code: '1.1' } }),
      row({ entityType: 'direction', entityId: DIRECTION, action: 'delete', before: { planId: PLAN, code: '1' } }),
      row({ entityType: 'plan', entityId: PLAN, action: 'delete', before: { organizationId: ORG, code: 'P-1' } }),
    ];
    expect(contextIdsOf(rows)).toEqual({
      plans: [PLAN, PLAN],
      directions: [DIRECTION, DIRECTION],
      goals: [GOAL, GOAL],
      indicators: [INDICATOR, INDICATOR],
    });
    const all = rows.flatMap((r) => eventsOf(inputs([], rows), r));
    expect(all.map((e) => e.type)).toEqual([
      'kz.nysana.measurement.deleted',
      'kz.nysana.indicator.status_changed',
      'kz.nysana.plan.structure_changed',
      'kz.nysana.plan.structure_changed',
      'kz.nysana.plan.structure_changed',
    ]);
    for (const e of all) expect([e.planId, e.organizationId, e.source]).toEqual([PLAN, ORG, `/api/v1/plans/${PLAN}`]);
    // Lower is better: fact 5 against plan 10 was achieved (200 %); with the measurement gone there is no target.
    expect(all[1]!.data).toMatchObject({
      indicator: { id: INDICATOR, code: '1.1.1' },
      before: { status: 'achieved', percent: 200 },
      after: { status: 'no_target', percent: null },
    });
  });

  it('prefers where a row sits now (the database) to what an older audit row says', () => {
    const context: TreeContext[] = [
      {
        kind: 'goal',
        id: GOAL,
        code: 'G-now',
        planId: PLAN,
        planCode: 'P-now',
        organizationId: ORG,
        planMethodId: null,
        valueType: null,
        betterWhen: null,
      },
    ];
    const g = row({
      entityType: 'goal',
      entityId: GOAL,
      action: 'update',
      before: { code: 'G-then' },
      after: { code: 'G-then' },
    });
    const [e] = eventsOf(inputs(context, [g]), g);
    expect(e!.data).toMatchObject({
      plan: { id: PLAN, code: 'P-now', organizationId: ORG },
      entity: { code: 'G-then' },
    });
  });

  it("approvals under both spellings of the trail ('yearApproval', 'year_approval'), keyed by <planId>/<year>", () => {
    for (const entityType of ['yearApproval', 'year_approval']) {
      const r = row({
        entityType,
        entityId: 'a1',
        entityKey: `${PLAN}/2016`,
        action: 'reopen',
        before: {},
        after: { reason: 'why' },
      });
      const [e] = eventsOf(inputs([], [r]), r);
      expect(e).toMatchObject({
        type: 'kz.nysana.year.reopened',
        planId: PLAN,
        data: { plan: { id: PLAN, code: null, organizationId: null }, year: 2016, reason: 'why' },
      });
    }
  });

  it('no event: other entities, unknown actions, a measurement without indicator or year', () => {
    const rows = [
      row({ entityType: 'user', entityId: 'u1', action: 'create', after: {} }),
      row({ entityType: 'plan', entityId: PLAN, action: 'update', after: { code: 'P' } }),
      row({ entityType: 'note', entityId: 'n1', entityKey: `${PLAN}/2016`, action: 'create', after: {} }),
      row({
        entityType: 'measurement',
        entityId: 'm1',
        action: 'approve',
        after: { indicatorId: INDICATOR, year: 2016 },
      }),
      row({ entityType: 'measurement', entityId: 'm2', entityKey: 'not-a-key', action: 'create', after: { plan: 1 } }),
      row({ entityType: 'yearApproval', entityId: 'a1', entityKey: `${PLAN}/2016`, action: 'delete', before: {} }),
      row({ entityType: 'reportSignature', entityId: 's1', entityKey: 'x/y', action: 'create', after: {} }),
    ];
    expect(rows.flatMap((r) => eventsOf(inputs([], rows), r))).toEqual([]);
  });
});

/**
 * A ?cascade=true delete leaves a trace of every row it removed: one audit entry per deleted
 * direction, goal, indicator, measurement, risk and note, readable through GET /audit, and a
 * deleted measurement's history ends with its deletion. A refused delete records nothing.
 */
import { describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import { API, createTree, expectProblem, expectStatus, putMeasurement } from '../helpers/fixtures.js';

const ctx = setupApp();

async function auditFor(entityType: string, entityId: string): Promise<Json[]> {
  const res = await call(ctx.app, 'GET', `${API}/audit?entityType=${entityType}&entityId=${entityId}&limit=100`);
  return expectStatus(res, 200).items;
}

describe('cascade delete audit', () => {
  it('records every deleted row, and a deleted measurement history ends with its deletion', async () => {
    const t = await createTree(ctx.app);
    await putMeasurement(ctx.app, t.indicator.id, 2015, { plan: 10, fact: 12 });
    await putMeasurement(ctx.app, t.indicator.id, 2016, { plan: 10, fact: 9 });
    const risk = expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${t.goal.id}/risks`, {
        year: 2016,
        risk: { en: 'Budget cut' },
        plannedMeasures: { en: 'Reallocate' },
        executionStatus: 'in_progress',
      }),
      201,
    );
    const note = expectStatus(
      await call(ctx.app, 'PUT', `${API}/plans/${t.plan.id}/notes/2016`, {
        blocks: [{ type: 'paragraph', text: { en: 'Note' } }],
      }),
      201,
    );

    // Without cascade: 409, nothing deleted, nothing recorded.
    expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${t.plan.id}`), 409);
    expect(await auditFor('goal', t.goal.id)).toHaveLength(1); // its creation only

    expect((await call(ctx.app, 'DELETE', `${API}/plans/${t.plan.id}?cascade=true`)).status).toBe(204);

    for (const [type, id] of [
      ['plan', t.plan.id],
      ['direction', t.direction.id],
      ['goal', t.goal.id],
      ['indicator', t.indicator.id],
      ['risk', risk.id],
      ['note', note.id],
    ] as const) {
      const entries = await auditFor(type, id);
      const deletion = entries.find((e) => e.action === 'delete');
      expect(deletion, `${type} deletion`).toBeDefined();
      expect(deletion.before.id).toBe(id);
    }
    for (const year of [2015, 2016]) {
      const history = expectStatus(
        await call(ctx.app, 'GET', `${API}/indicators/${t.indicator.id}/measurements/${year}/history`),
        200,
      );
      const actions = history.items.map((i: Json) => i.action);
      expect(actions).toEqual(['create', 'delete']);
      expect(history.items.at(-1).before).toMatchObject({ indicatorId: t.indicator.id, year, plan: 10 });
    }
  });

  it('a cascade from a goal records its indicators, measurements and risks, and nothing above it', async () => {
    const t = await createTree(ctx.app);
    await putMeasurement(ctx.app, t.indicator.id, 2017, { plan: 1, fact: 1 });
    expect((await call(ctx.app, 'DELETE', `${API}/goals/${t.goal.id}?cascade=true`)).status).toBe(204);
    expect((await auditFor('indicator', t.indicator.id)).map((e: Json) => e.action).sort()).toEqual([
      'create',
      'delete',
    ]);
    expect((await auditFor('direction', t.direction.id)).map((e: Json) => e.action)).toEqual(['create']);
    const history = expectStatus(
      await call(ctx.app, 'GET', `${API}/indicators/${t.indicator.id}/measurements/2017/history`),
      200,
    );
    expect(history.items.map((i: Json) => i.action)).toEqual(['create', 'delete']);
  });
});

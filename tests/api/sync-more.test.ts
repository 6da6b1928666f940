/** Incremental sync of the remaining lists: a goal's risks, a plan's notes, users and clients. */
import { describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { call, setupApp } from '../helpers/app.js';
import { API, createTree } from '../helpers/fixtures.js';

const ctx = setupApp();

async function syncAll(url: string): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const res: Json = await call(
      ctx.app,
      'GET',
      cursor ? `${url.split('?')[0]}?cursor=${cursor}&limit=2` : `${url}&limit=2`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (!cursor) break;
  }
  return items;
}

const since = () => encodeURIComponent(new Date(Date.now() - 1000).toISOString());

describe('sync of risks, notes, users and clients', () => {
  it('returns changed rows at their latest version and tombstones of deleted ones', async () => {
    const t0 = since();
    const tree = await createTree(ctx.app);
    const riskBody = { year: 2016, risk: { en: 'Staff leave' }, plannedMeasures: { en: 'Raise pay' } };
    const r1 = (await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, riskBody)).body;
    const r2 = (
      await call(ctx.app, 'POST', `${API}/goals/${tree.goal.id}/risks`, { ...riskBody, risk: { en: 'Budget cut' } })
    ).body;
    expect((await call(ctx.app, 'PATCH', `${API}/risks/${r1.id}`, { executionStatus: 'executed' })).status).toBe(200);
    expect((await call(ctx.app, 'DELETE', `${API}/risks/${r2.id}`)).status).toBe(204);
    const risks = await syncAll(`${API}/goals/${tree.goal.id}/risks?updatedSince=${t0}`);
    expect(risks.find((r) => r.id === r1.id)).toMatchObject({ executionStatus: 'executed', version: 2 });
    expect(risks.find((r) => r.id === r2.id)).toMatchObject({ deleted: true, goalId: tree.goal.id });
    expect(risks.filter((r) => r.id === r1.id)).toHaveLength(1);

    const note = { blocks: [{ type: 'paragraph', text: { en: 'All good' } }] };
    expect((await call(ctx.app, 'PUT', `${API}/plans/${tree.plan.id}/notes/2016`, note)).status).toBe(201);
    expect((await call(ctx.app, 'PUT', `${API}/plans/${tree.plan.id}/notes/2017`, note)).status).toBe(201);
    expect((await call(ctx.app, 'DELETE', `${API}/plans/${tree.plan.id}/notes/2017`)).status).toBe(204);
    const notes = await syncAll(`${API}/plans/${tree.plan.id}/notes?updatedSince=${t0}`);
    expect(notes.map((n) => [n.year, n.deleted ?? false]).sort()).toEqual([
      [2016, false],
      [2017, true],
    ]);

    const user = (
      await call(ctx.app, 'POST', `${API}/users`, {
        email: 'sync@nysana.test',
        displayName: 'Sync',
        role: 'viewer',
        password: 'a-long-enough-password',
      })
    ).body;
    expect((await call(ctx.app, 'DELETE', `${API}/users/${user.id}`)).status).toBe(204);
    const users = await syncAll(`${API}/users?updatedSince=${t0}`);
    expect(users.find((u) => u.id === user.id)).toMatchObject({ deleted: true });
    expect(JSON.stringify(users)).not.toMatch(/passwordHash|\$argon2/);

    const client = (await call(ctx.app, 'POST', `${API}/clients`, { name: 'Sync bureau', role: 'viewer' })).body;
    expect((await call(ctx.app, 'PATCH', `${API}/clients/${client.id}`, { active: false })).status).toBe(200);
    const clients = await syncAll(`${API}/clients?updatedSince=${t0}`);
    expect(clients.find((c) => c.id === client.id)).toMatchObject({ active: false, version: 2 });
  });

  it('rejects a bad updatedSince and sync with an export format', async () => {
    expect((await call(ctx.app, 'GET', `${API}/users?updatedSince=yesterday`)).status).toBe(400);
    expect((await call(ctx.app, 'GET', `${API}/clients?updatedSince=2020-01-01T00:00:00Z&format=csv`)).status).toBe(
      400,
    );
    expect(
      (
        await call(
          ctx.app,
          'GET',
          `${API}/plans/00000000-0000-4000-8000-000000000000/notes?updatedSince=2020-01-01T00:00:00Z`,
        )
      ).status,
    ).toBe(404);
  });
});

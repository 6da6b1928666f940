/** Every write leaves exactly one audit row with the entity before and after; a failed write leaves none. */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { bearer, call, createTestUser, setupApp } from '../helpers/app.js';
import type { Json } from '../helpers/app.js';
import { API, createTree, queryRows } from '../helpers/fixtures.js';

const ctx = setupApp();

async function auditCount(): Promise<number> {
  const [row] = await queryRows(ctx, sql`select count(*)::int as n from audit_log`);
  return row!.n as number;
}

async function latestAudit(): Promise<Json> {
  const res = await call(ctx.app, 'GET', `${API}/audit?limit=1`);
  expect(res.status).toBe(200);
  return res.body.items[0];
}

/** Runs a write and checks it added exactly one audit row, returning that row. */
async function oneAuditRow(write: () => Promise<{ status: number }>, expectedStatus: number): Promise<Json> {
  const before = await auditCount();
  const res = await write();
  expect(res.status).toBe(expectedStatus);
  expect(await auditCount()).toBe(before + 1);
  return latestAudit();
}

describe('audit trail', () => {
  it('records create, update and delete of every planning entity with before and after', async () => {
    const tree = await createTree(ctx.app);
    const entities: [string, string, Record<string, unknown>][] = [
      ['organization', `${API}/organizations/${tree.organization.id}`, { name: { en: 'Renamed agency' } }],
      ['plan', `${API}/plans/${tree.plan.id}`, { title: { en: 'Renamed plan' } }],
      ['direction', `${API}/directions/${tree.direction.id}`, { position: 7 }],
      ['goal', `${API}/goals/${tree.goal.id}`, { title: { en: 'Renamed goal' } }],
      ['indicator', `${API}/indicators/${tree.indicator.id}`, { betterWhen: 'lower' }],
    ];
    for (const [type, url, change] of entities) {
      const previous = (await call(ctx.app, 'GET', url)).body;
      const row = await oneAuditRow(() => call(ctx.app, 'PATCH', url, change), 200);
      expect(row).toMatchObject({ entityType: type, entityId: previous.id, action: 'update', actorType: 'user' });
      expect(row.before).toEqual(previous);
      expect(row.after).toMatchObject({ ...change, version: previous.version + 1 });
      expect(row.requestId).toBeTruthy();
    }
    // Deleting bottom-up: each delete is one row holding the deleted entity.
    for (const [type, url] of [...entities].reverse()) {
      const previous = (await call(ctx.app, 'GET', url)).body;
      const row = await oneAuditRow(() => call(ctx.app, 'DELETE', url), 204);
      expect(row).toMatchObject({ entityType: type, action: 'delete', after: null });
      expect(row.before).toEqual(previous);
    }
  });

  it('records measurement writes under a key that survives delete and re-create, readable as history', async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/indicators/${tree.indicator.id}/measurements/2016`;
    const created = await oneAuditRow(() => call(ctx.app, 'PUT', url, { plan: 70, fact: null }), 201);
    expect(created).toMatchObject({
      entityType: 'measurement',
      action: 'create',
      before: null,
      entityKey: `${tree.indicator.id}/2016`,
    });
    const updated = await oneAuditRow(() => call(ctx.app, 'PUT', url, { plan: 70, fact: 75 }), 200);
    expect(updated.before).toMatchObject({ plan: 70, fact: null, version: 1 });
    expect(updated.after).toMatchObject({ plan: 70, fact: 75, version: 2 });
    await oneAuditRow(() => call(ctx.app, 'DELETE', url), 204);
    await oneAuditRow(() => call(ctx.app, 'PUT', url, { plan: 71 }), 201);
    const history = await call(ctx.app, 'GET', `${url}/history`);
    expect(history.status).toBe(200);
    expect(history.body.items.map((i: Json) => i.action)).toEqual(['create', 'update', 'delete', 'create']);
  });

  it('records user and client administration without secrets', async () => {
    const user = await oneAuditRow(
      () =>
        call(ctx.app, 'POST', `${API}/users`, {
          email: 'audited@nysana.test',
          displayName: 'Audited',
          role: 'viewer',
          password: 'a-long-enough-password',
        }),
      201,
    );
    expect(user).toMatchObject({ entityType: 'user', action: 'create' });
    const userUrl = `${API}/users/${user.entityId}`;
    const changed = await oneAuditRow(
      () => call(ctx.app, 'PATCH', userUrl, { password: 'another-long-password' }),
      200,
    );
    expect(changed.after).toMatchObject({ passwordChanged: true });
    await oneAuditRow(() => call(ctx.app, 'DELETE', userUrl), 204);
    const client = await oneAuditRow(
      () => call(ctx.app, 'POST', `${API}/clients`, { name: 'Stats bureau', role: 'viewer' }),
      201,
    );
    const secret = (await call(ctx.app, 'POST', `${API}/clients/${client.entityId}/secret`)).body
      .clientSecret as string;
    expect(secret).toBeTruthy();
    const rotated = await latestAudit();
    expect(rotated.after).toMatchObject({ secretRotated: true });
    const trail = JSON.stringify((await call(ctx.app, 'GET', `${API}/audit?limit=500`)).body);
    expect(trail).not.toContain(secret);
    expect(trail).not.toMatch(/\$argon2id\$|passwordHash|secretHash/);
  });

  it("stores the server's request id, and a caller's x-request-id apart as the correlation id", async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/indicators/${tree.indicator.id}`;
    // Two callers send the same x-request-id: their entries still have distinct request ids.
    const first = await call(ctx.app, 'PATCH', url, { position: 3 }, { 'x-request-id': 'shared-id' });
    expect(first.status).toBe(200);
    const firstRow = await latestAudit();
    const editor = await createTestUser(ctx.app, { role: 'admin' });
    const second = await call(
      ctx.app,
      'PATCH',
      url,
      { position: 4 },
      { ...bearer(editor.token), 'x-request-id': 'shared-id' },
    );
    expect(second.status).toBe(200);
    const secondRow = await latestAudit();
    expect(firstRow.requestId).toBe(first.headers['x-request-id']);
    expect(secondRow.requestId).toBe(second.headers['x-request-id']);
    expect(firstRow.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(secondRow.requestId).not.toBe(firstRow.requestId);
    expect([firstRow.correlationId, secondRow.correlationId]).toEqual(['shared-id', 'shared-id']);
    // No (or an unusable) x-request-id: no correlation id, still a request id. Bulk writes too.
    const none = await oneAuditRow(
      () => call(ctx.app, 'PATCH', url, { position: 5 }, { 'x-request-id': 'not sane <x>' }),
      200,
    );
    expect(none.correlationId).toBeNull();
    expect(none.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const bulk = await call(
      ctx.app,
      'POST',
      `${API}/measurements/bulk`,
      { rows: [{ indicatorId: tree.indicator.id, year: 2016, plan: 1, fact: 2 }] },
      { 'x-request-id': 'bulk-7' },
    );
    expect(bulk.status).toBeLessThan(300);
    const bulkRow = await latestAudit();
    expect(bulkRow).toMatchObject({
      entityType: 'measurement',
      correlationId: 'bulk-7',
      requestId: bulk.headers['x-request-id'],
    });
  });

  it('leaves no row for a failed write', async () => {
    const tree = await createTree(ctx.app);
    const before = await auditCount();
    expect(
      (await call(ctx.app, 'POST', `${API}/organizations`, { code: tree.organization.code, name: { en: 'Dup' } }))
        .status,
    ).toBe(409);
    expect((await call(ctx.app, 'PATCH', `${API}/plans/${tree.plan.id}`, { startYear: 2020 })).status).toBe(400);
    expect(
      (await call(ctx.app, 'PUT', `${API}/indicators/${tree.indicator.id}/measurements/1990`, { plan: 1 })).status,
    ).toBe(400);
    expect((await call(ctx.app, 'DELETE', `${API}/plans/${tree.plan.id}`)).status).toBe(409);
    expect(
      (await call(ctx.app, 'PATCH', `${API}/goals/${tree.goal.id}`, { position: 1 }, { 'if-match': '"99"' })).status,
    ).toBe(412);
    expect(await auditCount()).toBe(before);
  });

  it('filters by entity, actor and time, newest first, and is admin-only', async () => {
    const tree = await createTree(ctx.app);
    const res = await call(ctx.app, 'GET', `${API}/audit?entityType=plan&entityId=${tree.plan.id}`);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ action: 'create', entityId: tree.plan.id });
    const all = await call(ctx.app, 'GET', `${API}/audit?limit=500`);
    const ids = all.body.items.map((i: Json) => i.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const actor = all.body.items[0].actorId;
    const mine = await call(ctx.app, 'GET', `${API}/audit?actorId=${actor}&limit=500`);
    expect(mine.body.items.length).toBe(all.body.items.filter((i: Json) => i.actorId === actor).length);
    const future = await call(ctx.app, 'GET', `${API}/audit?from=2999-01-01T00:00:00Z`);
    expect(future.body.items).toEqual([]);
    expect((await call(ctx.app, 'GET', `${API}/audit?from=yesterday`)).status).toBe(400);
    const editor = await createTestUser(ctx.app, { role: 'editor', organizationId: tree.organization.id });
    expect((await call(ctx.app, 'GET', `${API}/audit`, undefined, bearer(editor.token))).status).toBe(403);
  });
});

/** The signature block of a plan's report per year: PUT/GET/DELETE, audited, locked with an approved year, printed. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { bearer, call, setupApp, tokenFor } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import { API, createTree, expectProblem, expectStatus, unknownId } from '../helpers/fixtures.js';

const ctx = setupApp({ MAX_EVENT_LOOP_DELAY_MS: 0 });
let tree: Tree;
const url = (year: number, planId = tree.plan.id) => `${API}/plans/${planId}/reports/${year}/signature`;
const block = {
  position: { kk: 'Төраға', ru: 'Председатель', en: 'Chairman' },
  name: { kk: 'Қ. Қожамжаров', ru: 'К. Кожамжаров' },
  remark: { ru: 'Перевод неофициальный.' },
};

beforeAll(async () => {
  tree = await createTree(ctx.app);
});

describe('the signature block of a report year', () => {
  it('is created by PUT (201), replaced (200) with If-Match, read back, and audited', async () => {
    const created = await call(ctx.app, 'PUT', url(2016), block);
    const first = expectStatus(created, 201);
    expect(first).toMatchObject({
      planId: tree.plan.id,
      year: 2016,
      version: 1,
      position: block.position,
      name: block.name,
      remark: block.remark,
    });
    expect(created.headers.etag).toBe('"1"');
    const replaced = expectStatus(
      await call(ctx.app, 'PUT', url(2016), { ...block, remark: null }, { 'if-match': '"1"' }),
      200,
    );
    expect(replaced).toMatchObject({ id: first.id, version: 2, remark: null });
    expectProblem(await call(ctx.app, 'PUT', url(2016), block, { 'if-match': '"1"' }), 412);
    expect(expectStatus(await call(ctx.app, 'GET', url(2016)), 200)).toEqual(replaced);

    const audit = expectStatus(
      await call(ctx.app, 'GET', `${API}/audit?entityType=reportSignature&entityId=${first.id}`),
      200,
    );
    expect(audit.items.map((e: Json) => e.action)).toEqual(['update', 'create']);
    expect(audit.items[0]).toMatchObject({
      entityKey: `${tree.plan.id}/2016`,
      before: { version: 1, remark: block.remark },
      after: { version: 2, remark: null },
    });
  });

  it('refuses bad input with 400 and changes nothing; 404 for an unknown plan or a missing block', async () => {
    expectProblem(await call(ctx.app, 'PUT', url(2017), { position: { kk: 'Төраға' } }), 400, ['body.name']);
    expectProblem(await call(ctx.app, 'PUT', url(2017), { ...block, name: {} }), 400);
    expectProblem(await call(ctx.app, 'PUT', url(2017), { ...block, extra: 1 }), 400);
    expectProblem(await call(ctx.app, 'PUT', url(2017), { ...block, position: 'Төраға' }), 400, ['body.position']);
    expectProblem(await call(ctx.app, 'PUT', url(1990), block), 400, ['params.year']);
    expectProblem(await call(ctx.app, 'GET', url(2017)), 404);
    expectProblem(await call(ctx.app, 'PUT', url(2016, unknownId()), block), 404);
    expectProblem(await call(ctx.app, 'DELETE', url(2017)), 404);
  });

  it("is written by editors of the plan's organization only", async () => {
    const viewer = bearer(await tokenFor(ctx, { role: 'viewer' }));
    expectProblem(await call(ctx.app, 'PUT', url(2018), block, viewer), 403);
    expectStatus(await call(ctx.app, 'GET', url(2016), undefined, viewer), 200);
    const other = await createTree(ctx.app);
    const editor = bearer(await tokenFor(ctx, { role: 'editor', organizationId: other.organization.id }));
    expectProblem(await call(ctx.app, 'PUT', url(2018), block, editor), 403);
    expectStatus(await call(ctx.app, 'PUT', url(2018, other.plan.id), block, editor), 201);
  });

  it('is locked with an approved year (409) until an admin reopens it; other years stay open', async () => {
    const t = await createTree(ctx.app);
    expectStatus(await call(ctx.app, 'PUT', url(2016, t.plan.id), block), 201);
    expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${t.plan.id}/years/2016/approve`, {
        document: { kk: 'Төрағаның № 1 бұйрығы' },
        date: '2017-03-01',
      }),
      201,
    );
    expectProblem(await call(ctx.app, 'PUT', url(2016, t.plan.id), { ...block, remark: null }), 409);
    expectProblem(await call(ctx.app, 'DELETE', url(2016, t.plan.id)), 409);
    expect(expectStatus(await call(ctx.app, 'GET', url(2016, t.plan.id)), 200)).toMatchObject({
      version: 1,
      remark: block.remark,
    });
    expectStatus(await call(ctx.app, 'PUT', url(2017, t.plan.id), block), 201);
    expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${t.plan.id}/years/2016/reopen`, { reason: 'Signatory changed' }),
      200,
    );
    expectStatus(await call(ctx.app, 'DELETE', url(2016, t.plan.id)), 204);
    expectProblem(await call(ctx.app, 'GET', url(2016, t.plan.id)), 404);
  });

  it('goes with its plan: a plan with a signature answers 409 unless ?cascade=true', async () => {
    const t = await createTree(ctx.app);
    expectStatus(await call(ctx.app, 'PUT', url(2016, t.plan.id), block), 201);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/plans/${t.plan.id}`), 409);
    expectStatus(await call(ctx.app, 'DELETE', `${API}/plans/${t.plan.id}?cascade=true`), 204);
  });

  it('is printed in the report in the asked language; the remark only where it is given', async () => {
    const t = await createTree(ctx.app);
    expectStatus(await call(ctx.app, 'PUT', url(2016, t.plan.id), block), 201);
    const report = (lang: string) => call(ctx.app, 'GET', `${API}/plans/${t.plan.id}/reports/2016?lang=${lang}`);
    expect(expectStatus(await report('ru'), 200).signature).toEqual({
      position: 'Председатель',
      name: 'К. Кожамжаров',
      remark: 'Перевод неофициальный.',
      editionNotes: null,
    });
    expect(expectStatus(await report('kk'), 200).signature).toEqual({
      position: 'Төраға',
      name: 'Қ. Қожамжаров',
      remark: null,
      editionNotes: null,
    });
    // The name has no English: it falls back (kk first) and is listed; the remark does not fall back.
    const en = expectStatus(await report('en'), 200);
    expect(en.signature).toEqual({ position: 'Chairman', name: 'Қ. Қожамжаров', remark: null, editionNotes: null });
    expect(en.fallbacks).toContainEqual({ path: '/signature/name', lang: 'kk' });
    const html = (await call(ctx.app, 'GET', `${API}/plans/${t.plan.id}/reports/2016?lang=ru&format=html`)).raw.body;
    expect(html).toMatch(
      /<footer class="signature">[\s\S]*Перевод неофициальный\.[\s\S]*<span class="position">Председатель<\/span><span class="name">К\. Кожамжаров<\/span>/,
    );
    const none = await createTree(ctx.app);
    expect(
      expectStatus(await call(ctx.app, 'GET', `${API}/plans/${none.plan.id}/reports/2016`), 200).signature,
    ).toBeNull();
  });
});

/** The analytical note (section 3 of the annual report): PUT/GET/DELETE per plan and year. */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../helpers/app.js';
import { bearer, call, setupApp, tokenFor } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import {
  API,
  createOrganization,
  createTree,
  expectProblem,
  expectStatus,
  queryRows,
  unknownId,
} from '../helpers/fixtures.js';

const ctx = setupApp({ MAX_EVENT_LOOP_DELAY_MS: 0 });
let tree: Tree;
const noteUrl = (year: number, planId = tree.plan.id) => `${API}/plans/${planId}/notes/${year}`;

const blocks = [
  {
    type: 'heading',
    text: { kk: 'Мемлекеттік қызметтің кәсіби жүйесін құру бойынша', ru: 'По формированию профессиональной системы' },
  },
  {
    type: 'paragraph',
    text: { kk: 'Агенттік нысаналы индикаторларға қол жеткізді.', en: 'The Agency achieved its targets.' },
  },
  { type: 'list', items: [{ kk: 'бір' }, { kk: 'екі' }] },
  { type: 'list', ordered: true, items: [{ ru: 'первое' }] },
];

beforeAll(async () => {
  tree = await createTree(ctx.app);
});

describe('the analytical note of a plan year', () => {
  it('is created by PUT (201), replaced by PUT (200), read back with its ETag', async () => {
    const created = await call(ctx.app, 'PUT', noteUrl(2016), { blocks });
    const note = expectStatus(created, 201);
    expect(note).toMatchObject({ planId: tree.plan.id, year: 2016, version: 1 });
    expect(note.blocks[2]).toEqual({ type: 'list', ordered: false, items: [{ kk: 'бір' }, { kk: 'екі' }] });
    expect(created.headers.etag).toBe('"1"');
    const replaced = expectStatus(
      await call(ctx.app, 'PUT', noteUrl(2016), { blocks: blocks.slice(1, 2) }, { 'if-match': '"1"' }),
      200,
    );
    expect(replaced).toMatchObject({ version: 2, id: note.id });
    expect(replaced.blocks).toHaveLength(1);
    const read = await call(ctx.app, 'GET', noteUrl(2016));
    expect(expectStatus(read, 200)).toEqual(replaced);
    expect(
      (await call(ctx.app, 'GET', noteUrl(2016), undefined, { 'if-none-match': read.headers.etag as string })).status,
    ).toBe(304);
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2016), { blocks }, { 'if-match': '"1"' }), 412);
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2017), { blocks }, { 'if-match': '"1"' }), 412);
    // Both writes are in the audit trail, with the note before and after.
    const audit = expectStatus(await call(ctx.app, 'GET', `${API}/audit?entityType=note&entityId=${note.id}`), 200);
    expect(audit.items.map((e: Json) => e.action)).toEqual(['update', 'create']);
    expect(audit.items[0]).toMatchObject({
      entityKey: `${tree.plan.id}/2016`,
      before: { version: 1 },
      after: { version: 2 },
    });
  });

  it('is listed per year, and deleted', async () => {
    expectStatus(await call(ctx.app, 'PUT', noteUrl(2015), { blocks }), 201);
    const list = expectStatus(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/notes`), 200);
    expect(list.items.map((n: Json) => n.year)).toEqual([2015, 2016]);
    const page = expectStatus(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/notes?limit=1`), 200);
    expect(page.items.map((n: Json) => n.year)).toEqual([2015]);
    const next = expectStatus(
      await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/notes?limit=1&cursor=${page.nextCursor}`),
      200,
    );
    expect(next.items.map((n: Json) => n.year)).toEqual([2016]);
    expectStatus(await call(ctx.app, 'DELETE', noteUrl(2015)), 204);
    expectProblem(await call(ctx.app, 'GET', noteUrl(2015)), 404);
    expectProblem(await call(ctx.app, 'DELETE', noteUrl(2015)), 404);
  });

  it('answers 400 listing every bad block, never a 500', async () => {
    const res = await call(ctx.app, 'PUT', noteUrl(2017), {
      blocks: [
        { type: 'paragraph', text: {} },
        { type: 'list', items: [] },
        { type: 'quote', text: { kk: 'x' } },
        { type: 'heading', text: { kk: 'ok' }, extra: 1 },
      ],
      title: 'unknown',
    });
    expectProblem(res, 400, [
      'body.blocks.0.text',
      'body.blocks.1.items',
      'body.blocks.2.type',
      'body.blocks.3.extra',
      'body.title',
    ]);
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2017), { blocks: [] }), 400, ['body.blocks']);
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2017), {}), 400, ['body.blocks']);
    expectProblem(
      await call(ctx.app, 'PUT', noteUrl(2017), { blocks: [{ type: 'paragraph', text: { kk: 'x'.repeat(4001) } }] }),
      400,
      ['body.blocks.0.text.kk'],
    );
  });

  it('answers 400 for a year outside the plan and 404 for an unknown plan', async () => {
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2013), { blocks }), 400, ['params.year']);
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2019), { blocks }), 400, ['params.year']);
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${tree.plan.id}/notes/twenty`), 400, ['params.year']);
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2016, unknownId()), { blocks }), 404);
    expectProblem(await call(ctx.app, 'GET', noteUrl(2016, unknownId())), 404);
    expectProblem(await call(ctx.app, 'GET', `${API}/plans/${unknownId()}/notes`), 404);
    expectProblem(await call(ctx.app, 'DELETE', noteUrl(2016, unknownId())), 404);
  });

  it("may be written by admins and by editors of the plan's organization only", async () => {
    const viewer = bearer(await tokenFor(ctx, { role: 'viewer' }));
    expectStatus(await call(ctx.app, 'GET', noteUrl(2016), undefined, viewer), 200);
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2016), { blocks }, viewer), 403);
    const stranger = await createOrganization(ctx.app);
    const other = bearer(await tokenFor(ctx, { role: 'editor', organizationId: stranger.id }));
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2016), { blocks }, other), 403);
    expectProblem(await call(ctx.app, 'DELETE', noteUrl(2016), undefined, other), 403);
    const own = bearer(await tokenFor(ctx, { role: 'editor', organizationId: tree.organization.id }));
    expectStatus(await call(ctx.app, 'PUT', noteUrl(2016), { blocks }, own), 200);
  });

  it('goes with its plan: a plan with notes answers 409 unless ?cascade=true', async () => {
    const other = await createTree(ctx.app);
    expectStatus(await call(ctx.app, 'PUT', noteUrl(2016, other.plan.id), { blocks }), 201);
    expectStatus(
      await call(ctx.app, 'POST', `${API}/goals/${other.goal.id}/risks`, {
        year: 2016,
        risk: { kk: 'Тәуекел' },
        plannedMeasures: { kk: 'Шара' },
      }),
      201,
    );
    expectProblem(await call(ctx.app, 'DELETE', `${API}/organizations/${other.organization.id}`), 409);
    expectStatus(await call(ctx.app, 'DELETE', `${API}/organizations/${other.organization.id}?cascade=true`), 204);
    const [row] = await queryRows(
      ctx,
      sql`select (select count(*)::int from analytical_notes where plan_id = ${other.plan.id}) as notes,
        (select count(*)::int from risks where goal_id = ${other.goal.id}) as risks`,
    );
    expect(row).toEqual({ notes: 0, risks: 0 });
  });
});

describe('an approved year', () => {
  it('locks its risks and its note until an admin reopens it; other years stay open', async () => {
    const t = await createTree(ctx.app);
    const risksUrl = `${API}/goals/${t.goal.id}/risks`;
    const risk = { risk: { kk: 'Тәуекел' }, plannedMeasures: { kk: 'Шара' } };
    const r2016 = expectStatus(await call(ctx.app, 'POST', risksUrl, { ...risk, year: 2016 }), 201);
    const r2017 = expectStatus(await call(ctx.app, 'POST', risksUrl, { ...risk, year: 2017 }), 201);
    expectStatus(await call(ctx.app, 'PUT', noteUrl(2016, t.plan.id), { blocks }), 201);
    expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${t.plan.id}/years/2016/approve`, {
        document: { kk: 'Төрағаның № 1 бұйрығы' },
        date: '2017-03-01',
      }),
      201,
    );

    expectProblem(await call(ctx.app, 'POST', risksUrl, { ...risk, year: 2016 }), 409);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/risks/${r2016.id}`, { executionStatus: 'executed' }), 409);
    expectProblem(await call(ctx.app, 'PATCH', `${API}/risks/${r2017.id}`, { year: 2016 }), 409);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/risks/${r2016.id}`), 409);
    expectProblem(await call(ctx.app, 'PUT', noteUrl(2016, t.plan.id), { blocks }), 409);
    expectProblem(await call(ctx.app, 'DELETE', noteUrl(2016, t.plan.id)), 409);

    expectStatus(await call(ctx.app, 'PATCH', `${API}/risks/${r2017.id}`, { executionStatus: 'executed' }), 200);
    expectStatus(await call(ctx.app, 'PUT', noteUrl(2017, t.plan.id), { blocks }), 201);
    expectStatus(await call(ctx.app, 'DELETE', `${API}/risks/${r2017.id}`), 204);

    expectStatus(
      await call(ctx.app, 'POST', `${API}/plans/${t.plan.id}/years/2016/reopen`, { reason: 'Correction of section 1' }),
      200,
    );
    expectStatus(await call(ctx.app, 'PATCH', `${API}/risks/${r2016.id}`, { executionStatus: 'executed' }), 200);
    expectStatus(await call(ctx.app, 'DELETE', noteUrl(2016, t.plan.id)), 204);
  });
});

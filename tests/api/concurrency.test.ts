/** Optimistic concurrency: of 20 concurrent PATCHes carrying the same If-Match exactly one wins. */
import { describe, expect, it } from 'vitest';
import { call, setupApp } from '../helpers/app.js';
import { API, createTree } from '../helpers/fixtures.js';

const ctx = setupApp();

describe('If-Match under concurrency', () => {
  it('lets exactly one of 20 concurrent PATCHes win; the rest get 412 and the row equals the winner', async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/goals/${tree.goal.id}`;
    const etag = (await call(ctx.app, 'GET', url)).headers.etag as string;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(ctx.app, 'PATCH', url, { title: { en: `Writer ${i}` } }, { 'if-match': etag }),
      ),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(19);
    const stored = (await call(ctx.app, 'GET', url)).body;
    expect(stored.title).toEqual(winners[0]!.body.title);
    expect(stored.version).toBe(2);
  });

  it('guards measurement replacement and deletion the same way', async () => {
    const tree = await createTree(ctx.app);
    const url = `${API}/indicators/${tree.indicator.id}/measurements/2016`;
    const created = await call(ctx.app, 'PUT', url, { plan: 1 });
    const etag = created.headers.etag as string;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(ctx.app, 'PUT', url, { plan: i + 2 }, { 'if-match': etag })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect((await call(ctx.app, 'DELETE', url, undefined, { 'if-match': etag })).status).toBe(412);
    expect(
      (
        await call(
          ctx.app,
          'PUT',
          `${API}/indicators/${tree.indicator.id}/measurements/2017`,
          { plan: 1 },
          { 'if-match': '"1"' },
        )
      ).status,
    ).toBe(412);
  });
});

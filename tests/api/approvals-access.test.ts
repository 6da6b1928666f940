/**
 * Who may approve a plan year and who may reopen one, as a matrix of roles x organization:
 * approving is an editor's act for its own organization's plan (and an admin's), reopening an
 * approved year is for admins only. A refused call changes nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_AUTH, bearer, call, setupApp, tokenFor } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import { API, createTree, expectProblem, expectStatus } from '../helpers/fixtures.js';

const ctx = setupApp();
const order = { document: { en: 'Order No. 7' }, date: '2016-11-22' };

type Caller =
  | 'admin'
  | 'editor of the plan organization'
  | 'editor of another organization'
  | 'viewer'
  | 'viewer of the plan organization'
  | 'no token';
const CALLERS: Caller[] = [
  'admin',
  'editor of the plan organization',
  'editor of another organization',
  'viewer',
  'viewer of the plan organization',
  'no token',
];

/** Expected status per caller: [approve, reopen]. */
const MATRIX: Record<Caller, [number, number]> = {
  admin: [201, 200],
  'editor of the plan organization': [201, 403],
  'editor of another organization': [403, 403],
  viewer: [403, 403],
  'viewer of the plan organization': [403, 403],
  'no token': [401, 401],
};

let tree: Tree;
let other: Tree;
const headers = {} as Record<Caller, Record<string, string>>;

beforeAll(async () => {
  tree = await createTree(ctx.app);
  other = await createTree(ctx.app);
  headers.admin = {};
  headers['editor of the plan organization'] = bearer(
    await tokenFor(ctx, { role: 'editor', organizationId: tree.organization.id }),
  );
  headers['editor of another organization'] = bearer(
    await tokenFor(ctx, { role: 'editor', organizationId: other.organization.id }),
  );
  headers.viewer = bearer(await tokenFor(ctx, { role: 'viewer' }));
  headers['viewer of the plan organization'] = bearer(
    await tokenFor(ctx, { role: 'viewer', organizationId: tree.organization.id }),
  );
  headers['no token'] = NO_AUTH;
});

const approvedYears = async (planId: string) =>
  expectStatus(await call(ctx.app, 'GET', `${API}/plans/${planId}/years`), 200).items.map(
    (a: { year: number }) => a.year,
  );

describe('approving and reopening a plan year', () => {
  it.each(CALLERS.map((caller, i) => [caller, 2014 + (i % 5)] as const))(
    '%s: approve and reopen as the matrix says',
    async (caller, year) => {
      const [mayApprove, mayReopen] = MATRIX[caller];
      // Every row ends with the year reopened, so the rows stay independent.
      const planId = tree.plan.id;
      const before = await approvedYears(planId);
      const approveUrl = `${API}/plans/${planId}/years/${year}/approve`;
      const reopenUrl = `${API}/plans/${planId}/years/${year}/reopen`;

      const approved = await call(ctx.app, 'POST', approveUrl, order, headers[caller]);
      if (mayApprove === 201) {
        expect(expectStatus(approved, 201)).toMatchObject({ planId, year });
      } else {
        expectProblem(approved, mayApprove);
        expect(await approvedYears(planId)).toEqual(before);
        // An admin approves, so the reopen below has something to refuse.
        expectStatus(await call(ctx.app, 'POST', approveUrl, order), 201);
      }
      expect(await approvedYears(planId)).toContain(year);

      const reopened = await call(ctx.app, 'POST', reopenUrl, { reason: 'Corrected figures' }, headers[caller]);
      if (mayReopen === 200) {
        expect(expectStatus(reopened, 200)).toMatchObject({ planId, year, reason: 'Corrected figures' });
        expect(await approvedYears(planId)).not.toContain(year);
      } else {
        expectProblem(reopened, mayReopen);
        expect(await approvedYears(planId)).toContain(year);
        // Clean up as admin, so the next caller starts from the same state.
        expectStatus(await call(ctx.app, 'POST', reopenUrl, { reason: 'test cleanup' }), 200);
      }
    },
  );

  it('an editor cannot approve a year of a plan that does not exist (403, not 404: ids cannot be probed)', async () => {
    const res = await call(
      ctx.app,
      'POST',
      `${API}/plans/00000000-0000-4000-8000-000000000000/years/2016/approve`,
      order,
      headers['editor of the plan organization'],
    );
    expectProblem(res, 403);
  });
});

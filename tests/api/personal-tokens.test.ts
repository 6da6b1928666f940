/**
 * Personal access tokens: created once and shown once, stored hashed, accepted as Bearer and as the
 * Basic password (REST and exports), scoped (read-only refuses writes), acting exactly as their
 * owner does now, and refused at the next request once revoked, expired or the owner deactivated.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/auth/secrets.js';
import { auditLog, personalAccessTokens } from '../../src/db/schema.js';
import { MAX_LIVE_TOKENS } from '../../src/personal-tokens/service.js';
import type { Json, TestUser } from '../helpers/app.js';
import { NO_AUTH, bearer, call, createTestUser, setupApp } from '../helpers/app.js';
import {
  API,
  createOrganization,
  createTree,
  errorPaths,
  expectProblem,
  expectStatus,
  queryRows,
} from '../helpers/fixtures.js';

const ctx = setupApp();
const basic = (password: string, user = 'powerbi') => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const TOKEN = /^nys_pat_[A-Za-z0-9_-]{43}$/;

async function createToken(owner: TestUser, body: Record<string, unknown> = { name: 'Power BI' }): Promise<Json> {
  return expectStatus(await call(ctx.app, 'POST', `${API}/me/tokens`, body, bearer(owner.token)), 201);
}

const me = (headers: Record<string, string>) => call(ctx.app, 'GET', `${API}/me`, undefined, headers);

function expectUnauthorized(res: Awaited<ReturnType<typeof call>>, { basicChallenge = false } = {}) {
  expectProblem(res, 401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="nysana"/);
  if (basicChallenge) expect(res.headers['www-authenticate']).toMatch(/Basic realm="nysana", charset="UTF-8"$/);
}

const rowOf = async (id: string) =>
  (await ctx.db.database.db.select().from(personalAccessTokens).where(eq(personalAccessTokens.id, id)))[0];

describe('creating and listing', () => {
  let viewer: TestUser;
  beforeAll(async () => {
    viewer = await createTestUser(ctx.app, { role: 'viewer' });
  });

  it('shows the token once (201, Location, ETag, no-store), read-only for 90 days by default, and stores only its hash', async () => {
    const before = Date.now();
    const res = await call(ctx.app, 'POST', `${API}/me/tokens`, { name: '  Power BI refresh  ' }, bearer(viewer.token));
    expect(res.status, res.raw.body).toBe(201);
    const created = res.body;
    expect(created).toEqual({
      id: expect.any(String),
      name: 'Power BI refresh',
      scope: 'read',
      owner: { kind: 'user', id: viewer.id },
      tokenHint: created.token.slice(0, 12),
      expiresAt: expect.any(String),
      lastUsedAt: null,
      version: 1,
      createdAt: expect.any(String),
      token: expect.stringMatching(TOKEN),
    });
    expect(res.headers.location).toBe(`${API}/me/tokens/${created.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers['cache-control']).toBe('no-store');
    const days = (Date.parse(created.expiresAt) - before) / 86_400_000;
    expect(days).toBeGreaterThan(89.99);
    expect(days).toBeLessThan(90.01);

    const row = await rowOf(created.id);
    expect(row!.tokenHash).toBe(sha256(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token.slice(12));

    const [audit] = await ctx.db.database.db.select().from(auditLog).where(eq(auditLog.entityId, created.id));
    expect(audit).toMatchObject({
      entityType: 'personal_access_token',
      action: 'create',
      actorType: 'user',
      actorId: viewer.id,
    });
    expect(audit!.after).toMatchObject({ name: 'Power BI refresh', scope: 'read', tokenHint: created.tokenHint });
    expect(JSON.stringify(audit)).not.toContain(created.token.slice(12));

    // Shown once: neither the list nor the token's own page carries it.
    const listed = expectStatus(await call(ctx.app, 'GET', `${API}/me/tokens`, undefined, bearer(viewer.token)), 200);
    expect(listed.items.map((t: Json) => t.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    const one = await call(ctx.app, 'GET', `${API}/me/tokens/${created.id}`, undefined, bearer(viewer.token));
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('token');
    expect(one.headers.etag).toBe('"1"');
  });

  it('takes a scope and an expiry, and refuses bad input naming every field (nothing created)', async () => {
    const custom = await createToken(viewer, { name: 'ETL', scope: 'read_write', expiresInDays: 366 });
    expect(custom.scope).toBe('read_write');
    expect((Date.parse(custom.expiresAt) - Date.now()) / 86_400_000).toBeGreaterThan(365.9);
    const [{ n: before }] = (await queryRows(ctx, sql`select count(*)::int as n from personal_access_tokens`)) as [
      { n: number },
    ];
    const bad = await call(
      ctx.app,
      'POST',
      `${API}/me/tokens`,
      { name: '   ', scope: 'admin', expiresInDays: 0, extra: true },
      bearer(viewer.token),
    );
    expectProblem(bad, 400, ['body.name', 'body.scope', 'body.expiresInDays']);
    expect(errorPaths(bad).some((p) => p.includes('extra') || p === 'body')).toBe(true);
    for (const expiresInDays of [367, 1.5, '30', -1, 1e12, null]) {
      expectProblem(
        await call(ctx.app, 'POST', `${API}/me/tokens`, { name: 'x', expiresInDays }, bearer(viewer.token)),
        400,
        ['body.expiresInDays'],
      );
    }
    expectProblem(
      await call(ctx.app, 'POST', `${API}/me/tokens`, { name: 'x'.repeat(101) }, bearer(viewer.token)),
      400,
      ['body.name'],
    );
    expectProblem(await call(ctx.app, 'POST', `${API}/me/tokens`, undefined, bearer(viewer.token)), 400);
    const [{ n: after }] = (await queryRows(ctx, sql`select count(*)::int as n from personal_access_tokens`)) as [
      { n: number },
    ];
    expect(after).toBe(before);
  });

  it("lists the caller's tokens only, oldest first, paginated", async () => {
    const owner = await createTestUser(ctx.app, { role: 'viewer' });
    const other = await createTestUser(ctx.app, { role: 'viewer' });
    const mine = [
      await createToken(owner, { name: 'a' }),
      await createToken(owner, { name: 'b' }),
      await createToken(owner, { name: 'c' }),
    ];
    await createToken(other, { name: 'theirs' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${API}/me/tokens?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: Json = expectStatus(await call(ctx.app, 'GET', url, undefined, bearer(owner.token)), 200);
      seen.push(...page.items.map((t: Json) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(mine.map((t) => t.id));
    expectProblem(await call(ctx.app, 'GET', `${API}/me/tokens?cursor=garbage`, undefined, bearer(owner.token)), 400, [
      'query.cursor',
    ]);
  });

  it(`refuses more than ${MAX_LIVE_TOKENS} unexpired tokens per user (409); expired ones do not count`, async () => {
    const owner = await createTestUser(ctx.app, { role: 'viewer' });
    const rows = Array.from({ length: MAX_LIVE_TOKENS }, (_, i) => ({
      userId: owner.id,
      name: `bulk ${i}`,
      scope: 'read' as const,
      tokenHash: sha256(randomUUID()),
      tokenHint: 'nys_pat_xxxx',
      expiresAt: new Date(Date.now() + 86_400_000),
    }));
    await ctx.db.database.db.insert(personalAccessTokens).values(rows);
    expectProblem(await call(ctx.app, 'POST', `${API}/me/tokens`, { name: 'one too many' }, bearer(owner.token)), 409);
    await ctx.db.database.db
      .update(personalAccessTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(personalAccessTokens.name, 'bulk 0'));
    await createToken(owner, { name: 'fits again' });
  });

  it("is for users: a service client's own access token gets 403 on /me/tokens, no token 401", async () => {
    const created = expectStatus(
      await call(ctx.app, 'POST', `${API}/clients`, { name: 'Dashboard', role: 'viewer' }),
      201,
    );
    const issued = await ctx.app.auth.tokens.sign({
      kind: 'client',
      id: created.id,
      role: 'viewer',
      organizationId: null,
    });
    expectProblem(await call(ctx.app, 'GET', `${API}/me/tokens`, undefined, bearer(issued.token)), 403);
    expectProblem(await call(ctx.app, 'POST', `${API}/me/tokens`, { name: 'x' }, bearer(issued.token)), 403);
    expectUnauthorized(await call(ctx.app, 'GET', `${API}/me/tokens`, undefined, NO_AUTH), { basicChallenge: true });
  });
});

describe('authenticating with a token', () => {
  let admin: TestUser;
  let readToken: Json;
  let writeToken: Json;

  beforeAll(async () => {
    admin = await createTestUser(ctx.app, { role: 'admin' });
    readToken = await createToken(admin, { name: 'read' });
    writeToken = await createToken(admin, { name: 'write', scope: 'read_write' });
  });

  it('works as a bearer token and as the Basic password with any user name, as its owner', async () => {
    for (const headers of [
      bearer(readToken.token),
      basic(readToken.token),
      basic(readToken.token, ''),
      basic(readToken.token, 'x:y'),
    ]) {
      const res = await me(headers);
      expect(res.status, res.raw.body).toBe(200);
      expect(res.body).toMatchObject({ kind: 'user', id: admin.id, role: 'admin' });
    }
    // Scheme names are case-insensitive (RFC 9110).
    expect(
      (await me({ authorization: `basic ${Buffer.from(`u:${readToken.token}`).toString('base64')}` })).status,
    ).toBe(200);
    expect((await me({ authorization: `bearer ${readToken.token}` })).status).toBe(200);
  });

  it('opens the CSV and XLSX exports with Basic, as Power BI and Excel send it', async () => {
    await createOrganization(ctx.app);
    const csv = await call(ctx.app, 'GET', `${API}/organizations?format=csv&sep=;`, undefined, basic(readToken.token));
    expect(csv.status, csv.raw.body).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.raw.body).toContain('code');
    const status = await call(ctx.app, 'GET', `${API}/status?year=2016&format=csv`, undefined, basic(readToken.token));
    expect(status.status, status.raw.body).toBe(200);
    expect(status.headers['content-type']).toMatch(/^text\/csv/);
    const xlsx = await ctx.app.inject({
      method: 'GET',
      url: `${API}/organizations?format=xlsx`,
      headers: basic(readToken.token),
    });
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe('PK');
  });

  it('a read-only token may read (GET, HEAD) but any write answers 403 and changes nothing; read_write may write', async () => {
    expect(
      (await ctx.app.inject({ method: 'HEAD', url: `${API}/organizations`, headers: bearer(readToken.token) }))
        .statusCode,
    ).toBe(200);
    const [{ n: before }] = (await queryRows(ctx, sql`select count(*)::int as n from organizations`)) as [
      { n: number },
    ];
    const body = { code: `PAT-${randomUUID().slice(0, 6)}`, name: { en: 'Agency' } };
    for (const headers of [bearer(readToken.token), basic(readToken.token)]) {
      const res = await call(ctx.app, 'POST', `${API}/organizations`, body, headers);
      expectProblem(res, 403);
      expect(res.body.detail).toMatch(/read-only/);
      expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    }
    const org = expectStatus(
      await call(
        ctx.app,
        'POST',
        `${API}/organizations`,
        { code: `PAT-${randomUUID().slice(0, 6)}`, name: { en: 'A' } },
        bearer(admin.token),
      ),
      201,
    );
    expectProblem(
      await call(ctx.app, 'DELETE', `${API}/organizations/${org.id}`, undefined, basic(readToken.token)),
      403,
    );
    expectProblem(
      await call(ctx.app, 'PATCH', `${API}/organizations/${org.id}`, { name: { en: 'B' } }, basic(readToken.token)),
      403,
    );
    const [{ n: middle }] = (await queryRows(ctx, sql`select count(*)::int as n from organizations`)) as [
      { n: number },
    ];
    expect(middle).toBe(before + 1);
    const written = await call(ctx.app, 'POST', `${API}/organizations`, body, basic(writeToken.token));
    expect(written.status, written.raw.body).toBe(201);
    // The audit trail names the token's owner as the actor.
    const [audit] = await ctx.db.database.db.select().from(auditLog).where(eq(auditLog.entityId, written.body.id));
    expect(audit).toMatchObject({ actorType: 'user', actorId: admin.id, action: 'create' });
  });

  it('records the last use at most once a minute', async () => {
    const token = await createToken(admin, { name: 'usage' });
    expect((await rowOf(token.id))!.lastUsedAt).toBeNull();
    expect((await me(bearer(token.token))).status).toBe(200);
    const first = (await rowOf(token.id))!.lastUsedAt;
    expect(first).toBeInstanceOf(Date);
    expect((await me(basic(token.token))).status).toBe(200);
    expect((await rowOf(token.id))!.lastUsedAt).toEqual(first);
    const listed = expectStatus(
      await call(ctx.app, 'GET', `${API}/me/tokens/${token.id}`, undefined, bearer(admin.token)),
      200,
    );
    expect(listed.lastUsedAt).toBe(first!.toISOString());
    // Two minutes later (moved back in the database rather than waited for), the next use is recorded.
    const earlier = new Date(Date.now() - 120_000);
    await ctx.db.database.db
      .update(personalAccessTokens)
      .set({ lastUsedAt: earlier })
      .where(eq(personalAccessTokens.id, token.id));
    expect((await me(bearer(token.token))).status).toBe(200);
    expect((await rowOf(token.id))!.lastUsedAt!.getTime()).toBeGreaterThan(earlier.getTime() + 60_000);
  });

  it('cannot create or revoke tokens (a leaked token cannot mint a longer one), but may list them', async () => {
    expectProblem(
      await call(
        ctx.app,
        'POST',
        `${API}/me/tokens`,
        { name: 'child', scope: 'read_write', expiresInDays: 366 },
        basic(writeToken.token),
      ),
      403,
    );
    expectProblem(
      await call(ctx.app, 'DELETE', `${API}/me/tokens/${readToken.id}`, undefined, bearer(writeToken.token)),
      403,
    );
    expect((await me(bearer(readToken.token))).status).toBe(200);
    expect((await call(ctx.app, 'GET', `${API}/me/tokens`, undefined, basic(readToken.token))).status).toBe(200);
    const client = expectStatus(
      await call(ctx.app, 'POST', `${API}/clients`, { name: 'via token', role: 'viewer' }, bearer(admin.token)),
      201,
    );
    expectProblem(
      await call(ctx.app, 'POST', `${API}/clients/${client.id}/tokens`, { name: 'x' }, bearer(writeToken.token)),
      403,
    );
  });
});

describe('refused credentials (401, nothing learned)', () => {
  let owner: TestUser;
  beforeAll(async () => {
    owner = await createTestUser(ctx.app, { role: 'viewer' });
  });

  it('a revoked token, at its next request, as Bearer and as Basic; the revocation is audited', async () => {
    const token = await createToken(owner);
    expect((await me(basic(token.token))).status).toBe(200);
    const res = await call(ctx.app, 'DELETE', `${API}/me/tokens/${token.id}`, undefined, bearer(owner.token));
    expect(res.status).toBe(204);
    expectUnauthorized(await me(bearer(token.token)));
    expectUnauthorized(await me(basic(token.token)), { basicChallenge: true });
    expectProblem(await call(ctx.app, 'DELETE', `${API}/me/tokens/${token.id}`, undefined, bearer(owner.token)), 404);
    const audit = await ctx.db.database.db.select().from(auditLog).where(eq(auditLog.entityId, token.id));
    expect(audit.map((a) => a.action).sort()).toEqual(['create', 'delete']);
  });

  it('an expired token, saying so', async () => {
    const token = await createToken(owner, { name: 'short', expiresInDays: 1 });
    expect((await me(bearer(token.token))).status).toBe(200);
    await ctx.db.database.db
      .update(personalAccessTokens)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(personalAccessTokens.id, token.id));
    const res = await me(basic(token.token));
    expectUnauthorized(res, { basicChallenge: true });
    expect(res.body.detail).toMatch(/expired/);
    expectUnauthorized(await me(bearer(token.token)));
  });

  it('a wrong Basic password: an unknown token, a login password, garbage', async () => {
    const unknown = `nys_pat_${randomBytes(32).toString('base64url')}`;
    for (const password of [unknown, owner.password, 'hunter2', '', 'nys_pat_short', `nys_pat_${'A'.repeat(44)}`]) {
      const res = await me(basic(password, owner.email));
      expectUnauthorized(res, { basicChallenge: true });
    }
    expectUnauthorized(await me(bearer(unknown)));
    expectUnauthorized(await me(bearer('nys_pat_short')));
  });

  it('a malformed Basic header', async () => {
    const token = await createToken(owner, { name: 'malformed' });
    const noColon = Buffer.from(token.token).toString('base64');
    const unpadded = Buffer.from(`u:${token.token}`).toString('base64').replace(/=+$/, '');
    const truncated = Buffer.from(`u:${token.token}`).toString('base64').slice(0, -4);
    for (const authorization of [
      'Basic',
      'Basic ',
      `Basic ${noColon}`,
      'Basic !!!!',
      `Basic ${unpadded}x`,
      `Basic ${truncated}`,
      `Basic  ${noColon} extra`,
      `Basic ${'A'.repeat(9000)}`,
    ]) {
      expectUnauthorized(await me({ authorization }));
    }
    expect((await me(basic(token.token))).status).toBe(200);
  });

  it("a deactivated user's token at the next request (no per-process cache), and again once reactivated; deleted with the user", async () => {
    const user = await createTestUser(ctx.app, { role: 'viewer' });
    const token = await createToken(user);
    expect((await me(bearer(token.token))).status).toBe(200);
    expectStatus(await call(ctx.app, 'PATCH', `${API}/users/${user.id}`, { active: false }), 200);
    expectUnauthorized(await me(bearer(token.token)));
    expectUnauthorized(await me(basic(token.token)), { basicChallenge: true });
    // Straight in the database too: no replica holds the state in memory.
    await ctx.db.database.db.execute(sql`update users set active = true where id = ${user.id}`);
    expect((await me(bearer(token.token))).status).toBe(200);
    await ctx.db.database.db.execute(sql`update users set active = false where id = ${user.id}`);
    expectUnauthorized(await me(bearer(token.token)));
    expect((await call(ctx.app, 'DELETE', `${API}/users/${user.id}`)).status).toBe(204);
    expect(await rowOf(token.id)).toBeUndefined();
  });

  it("another user's token id: 404 on revoke and read, and the token keeps working", async () => {
    const other = await createTestUser(ctx.app, { role: 'viewer' });
    const theirs = await createToken(other);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/me/tokens/${theirs.id}`, undefined, bearer(owner.token)), 404);
    expectProblem(await call(ctx.app, 'GET', `${API}/me/tokens/${theirs.id}`, undefined, bearer(owner.token)), 404);
    expectProblem(
      await call(ctx.app, 'DELETE', `${API}/me/tokens/${randomUUID()}`, undefined, bearer(owner.token)),
      404,
    );
    expectProblem(await call(ctx.app, 'DELETE', `${API}/me/tokens/not-a-uuid`, undefined, bearer(owner.token)), 400, [
      'params.id',
    ]);
    expect((await me(bearer(theirs.token))).status).toBe(200);
  });

  it('If-Match: a stale version answers 412 and revokes nothing; the current one revokes', async () => {
    const token = await createToken(owner, { name: 'if-match' });
    for (const ifMatch of ['"2"', 'garbage']) {
      expectProblem(
        await call(ctx.app, 'DELETE', `${API}/me/tokens/${token.id}`, undefined, {
          ...bearer(owner.token),
          'if-match': ifMatch,
        }),
        412,
      );
    }
    expect((await me(bearer(token.token))).status).toBe(200);
    expect(
      (
        await call(ctx.app, 'DELETE', `${API}/me/tokens/${token.id}`, undefined, {
          ...bearer(owner.token),
          'if-match': '"1"',
        })
      ).status,
    ).toBe(204);
    expectUnauthorized(await me(bearer(token.token)));
  });
});

describe("an editor's token is scoped like the editor", () => {
  it('writes its own organization only, and follows a demotion at once', async () => {
    const own = await createTree(ctx.app);
    const foreign = await createTree(ctx.app);
    const editor = await createTestUser(ctx.app, { role: 'editor', organizationId: own.organization.id });
    const token = await createToken(editor, { name: 'ETL', scope: 'read_write' });
    const put = (indicatorId: string) =>
      call(
        ctx.app,
        'PUT',
        `${API}/indicators/${indicatorId}/measurements/2016`,
        { plan: 10, fact: 9 },
        basic(token.token),
      );
    expect((await put(own.indicator.id)).status).toBe(201);
    expectProblem(await put(foreign.indicator.id), 403);
    expectProblem(
      await call(ctx.app, 'POST', `${API}/organizations`, { code: 'NOPE', name: { en: 'x' } }, basic(token.token)),
      403,
    );
    expectProblem(await call(ctx.app, 'GET', `${API}/users`, undefined, basic(token.token)), 403);
    expect(
      (
        await call(
          ctx.app,
          'GET',
          `${API}/indicators/${foreign.indicator.id}/measurements`,
          undefined,
          basic(token.token),
        )
      ).status,
    ).toBe(200);

    expectStatus(
      await call(ctx.app, 'PATCH', `${API}/users/${editor.id}`, { role: 'viewer', organizationId: null }),
      200,
    );
    const demoted = await put(own.indicator.id);
    expectProblem(demoted, 403);
    expect((await me(basic(token.token))).body).toMatchObject({ role: 'viewer', organizationId: null });
  });
});

describe('service client tokens (admins)', () => {
  let client: Json;
  beforeAll(async () => {
    client = expectStatus(
      await call(ctx.app, 'POST', `${API}/clients`, { name: 'Statistics office', role: 'viewer' }),
      201,
    );
  });

  it('an admin creates one; it acts as the client; listed and revoked under the client', async () => {
    const res = await call(ctx.app, 'POST', `${API}/clients/${client.id}/tokens`, { name: 'nightly pull' });
    expect(res.status, res.raw.body).toBe(201);
    expect(res.body.owner).toEqual({ kind: 'client', id: client.id });
    expect(res.headers.location).toBe(`${API}/clients/${client.id}/tokens/${res.body.id}`);
    const asClient = await me(basic(res.body.token));
    expect(asClient.body).toMatchObject({ kind: 'client', id: client.id, role: 'viewer' });
    const listed = expectStatus(await call(ctx.app, 'GET', `${API}/clients/${client.id}/tokens`), 200);
    expect(listed.items.map((t: Json) => t.id)).toEqual([res.body.id]);
    expect(
      expectStatus(await call(ctx.app, 'GET', `${API}/clients/${client.id}/tokens/${res.body.id}`), 200).lastUsedAt,
    ).not.toBeNull();
    // A client's token is not reachable under another client.
    const other = expectStatus(await call(ctx.app, 'POST', `${API}/clients`, { name: 'Other', role: 'viewer' }), 201);
    expectProblem(await call(ctx.app, 'DELETE', `${API}/clients/${other.id}/tokens/${res.body.id}`), 404);
    expect((await call(ctx.app, 'DELETE', `${API}/clients/${client.id}/tokens/${res.body.id}`)).status).toBe(204);
    expectUnauthorized(await me(basic(res.body.token)), { basicChallenge: true });
  });

  it("a deactivated client's token is refused at the next request", async () => {
    const created = expectStatus(
      await call(ctx.app, 'POST', `${API}/clients/${client.id}/tokens`, { name: 'to deactivate' }),
      201,
    );
    expect((await me(bearer(created.token))).status).toBe(200);
    expectStatus(await call(ctx.app, 'PATCH', `${API}/clients/${client.id}`, { active: false }), 200);
    expectUnauthorized(await me(bearer(created.token)));
    expectStatus(await call(ctx.app, 'PATCH', `${API}/clients/${client.id}`, { active: true }), 200);
    expect((await me(bearer(created.token))).status).toBe(200);
  });

  it('an unknown client: 404; non-admins: 403', async () => {
    expectProblem(await call(ctx.app, 'POST', `${API}/clients/${randomUUID()}/tokens`, { name: 'x' }), 404);
    expectProblem(await call(ctx.app, 'GET', `${API}/clients/${randomUUID()}/tokens`), 404);
    const fresh = expectStatus(
      await call(ctx.app, 'POST', `${API}/clients`, { name: 'No tokens yet', role: 'viewer' }),
      201,
    );
    expect(expectStatus(await call(ctx.app, 'GET', `${API}/clients/${fresh.id}/tokens`), 200)).toEqual({
      items: [],
      nextCursor: null,
    });
    const editor = await createTestUser(ctx.app, {
      role: 'editor',
      organizationId: (await createOrganization(ctx.app)).id,
    });
    expectProblem(
      await call(ctx.app, 'POST', `${API}/clients/${client.id}/tokens`, { name: 'x' }, bearer(editor.token)),
      403,
    );
    expectProblem(
      await call(ctx.app, 'GET', `${API}/clients/${client.id}/tokens`, undefined, bearer(editor.token)),
      403,
    );
  });
});

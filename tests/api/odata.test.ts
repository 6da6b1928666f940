/**
 * The OData v4 feed (/odata/v1) through the real app: service document, $metadata, entity sets,
 * keys, navigation, $select/$filter/$orderby/$top/$skip/$count, server-driven paging, ?lang, the
 * OData error format for bad input, and the REST API's access rules (personal access tokens over
 * Basic auth included: revoked, expired, wrong password).
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json, TestUser } from '../helpers/app.js';
import { NO_AUTH, bearer, call, createTestUser, setupApp } from '../helpers/app.js';
import type { Tree } from '../helpers/fixtures.js';
import {
  API,
  createDirection,
  createGoal,
  createIndicator,
  createOrganization,
  createPlan,
  createTree,
  expectStatus,
  putMeasurement,
  queryRows,
} from '../helpers/fixtures.js';

const ctx = setupApp();
const OD = '/odata/v1';
const basic = (password: string, user = 'powerbi') => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
type Res = Awaited<ReturnType<typeof call>>;

const get = (url: string, headers: Record<string, string> = {}) => call(ctx.app, 'GET', url, undefined, headers);

function expectODataError(res: Res, status: number, code?: string): Json {
  expect(res.status, res.raw.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['odata-version']).toBe('4.0');
  expect(res.body).toEqual({
    error: expect.objectContaining({ code: code ?? expect.any(String), message: expect.any(String) }),
  });
  expect(res.body.error.message.length).toBeGreaterThan(0);
  return res.body.error;
}

const values = (res: Res): Json[] => expectStatus(res, 200).value;

let tree: Tree;
/** A second plan of another organization, with a lower-is-better indicator. */
let other: Tree;
/** Indicators of tree's goal, coded 1.1.1 .. 1.1.3 plus 1.1.10 (created out of order). */
const indicators: Json[] = [];

beforeAll(async () => {
  tree = await createTree(ctx.app, {
    indicator: { code: '1.1.1', name: { kk: 'Бірінші', ru: 'Первый', en: 'First' } },
  });
  indicators.push(tree.indicator);
  for (const [code, name] of [
    ['1.1.10', 'Tenth'],
    ['1.1.2', "O'Brien's"],
    ['1.1.3', 'Third'],
  ] as const) {
    indicators.push(await createIndicator(ctx.app, tree.goal.id, { code, name: { en: name } }));
  }
  // 2016: achieved (100 %), not achieved (50 %), pending, no target.
  await putMeasurement(ctx.app, indicators[0].id, 2016, { plan: 10, fact: 10 });
  await putMeasurement(ctx.app, indicators[1].id, 2016, { plan: 10, fact: 5 });
  await putMeasurement(ctx.app, indicators[2].id, 2016, { plan: 10 });
  await putMeasurement(ctx.app, indicators[3].id, 2016, { fact: 3 });
  await putMeasurement(ctx.app, indicators[0].id, 2017, { plan: 1.3, fact: 1.3 });
  other = await createTree(ctx.app, { indicator: { code: '2.1.1', betterWhen: 'lower', name: { ru: 'Текучесть' } } });
  await putMeasurement(ctx.app, other.indicator.id, 2016, { plan: 8, fact: 10 });
});

describe('service document and $metadata', () => {
  it('lists the entity sets with absolute context URLs and OData-Version 4.0', async () => {
    const res = await get(`${OD}/`);
    const body = expectStatus(res, 200);
    expect(res.headers['odata-version']).toBe('4.0');
    expect(res.headers['content-type']).toMatch(/^application\/json;odata\.metadata=minimal/);
    expect(body['@odata.context']).toMatch(/^http:\/\/[^/]+\/odata\/v1\/\$metadata$/);
    expect(body.value.map((s: Json) => s.name)).toEqual([
      'Organizations',
      'Plans',
      'Directions',
      'Goals',
      'Indicators',
      'Measurements',
      'StatusRows',
    ]);
    expect(expectStatus(await get(OD), 200).value).toHaveLength(7);
  });

  it('serves CSDL XML with keys, types and navigation bindings', async () => {
    const res = await get(`${OD}/$metadata`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    const xml = res.raw.body;
    expect(xml).toContain('<edmx:Edmx Version="4.0"');
    expect(xml).toContain('<EntityType Name="StatusRow">');
    expect(xml).toMatch(/<PropertyRef Name="indicatorId"\/>\s*<PropertyRef Name="year"\/>/);
    expect(xml).toContain('<Property Name="plan" Type="Edm.Decimal" Nullable="true" Scale="variable"/>');
    expect(xml).toContain('<NavigationProperty Name="Directions" Type="Collection(Nysana.Direction)"/>');
    expect(xml).toContain('<NavigationPropertyBinding Path="Plan" Target="Plans"/>');
    expect(xml).toContain('<EntitySet Name="Measurements" EntityType="Nysana.Measurement">');
  });

  it('refuses query options on the service document and $metadata', async () => {
    expectODataError(await get(`${OD}/$metadata?$top=1`), 400);
    expectODataError(await get(`${OD}/?$filter=a eq 1`), 400);
    expectODataError(await get(`${OD}/$metadata?$nope=1`), 400);
    expect((await get(`${OD}/?lang=ru`)).status).toBe(200);
    expect((await get(`${OD}/$metadata?lang=ru`)).status).toBe(200);
  });
});

describe('entity sets, keys and navigation', () => {
  it('answers a collection with odata.metadata=minimal JSON, numbers as numbers', async () => {
    const res = await get(`${OD}/Measurements?$filter=indicatorId eq '${indicators[0].id}'&$orderby=year`);
    const body = expectStatus(res, 200);
    expect(body['@odata.context']).toMatch(/\/odata\/v1\/\$metadata#Measurements$/);
    expect(body.value.map((m: Json) => [m.year, m.plan, m.fact])).toEqual([
      [2016, 10, 10],
      [2017, 1.3, 1.3],
    ]);
    expect(body['@odata.nextLink']).toBeUndefined();
  });

  it('reads one entity by key, quoted or bare, and 404s in the OData format for an unknown or malformed key', async () => {
    const quoted = expectStatus(await get(`${OD}/Plans('${tree.plan.id}')`), 200);
    expect(quoted).toMatchObject({
      id: tree.plan.id,
      code: tree.plan.code,
      organizationId: tree.organization.id,
      startYear: 2014,
      endYear: 2018,
    });
    expect(quoted['@odata.context']).toMatch(/#Plans\/\$entity$/);
    expect(expectStatus(await get(`${OD}/Plans(${tree.plan.id})`), 200).id).toBe(tree.plan.id);
    expectODataError(await get(`${OD}/Plans('00000000-0000-4000-8000-000000000000')`), 404, 'NotFound');
    expectODataError(await get(`${OD}/Plans('not-a-uuid')`), 404, 'NotFound');
    expectODataError(await get(`${OD}/Plans(1.5)`), 400);
    expectODataError(await get(`${OD}/Nope`), 404, 'NotFound');
  });

  it('follows navigation both ways, with $count on collections', async () => {
    const directions = values(await get(`${OD}/Plans('${tree.plan.id}')/Directions`));
    expect(directions.map((d) => d.id)).toEqual([tree.direction.id]);
    const plan = expectStatus(await get(`${OD}/Directions('${tree.direction.id}')/Plan`), 200);
    expect(plan.id).toBe(tree.plan.id);
    expect(values(await get(`${OD}/Organizations('${tree.organization.id}')/Plans`)).map((p) => p.id)).toEqual([
      tree.plan.id,
    ]);
    const count = await get(`${OD}/Goals('${tree.goal.id}')/Indicators/$count`);
    expect(count.status).toBe(200);
    expect(count.raw.body).toBe('4');
    expect(values(await get(`${OD}/Indicators('${indicators[0].id}')/StatusRows`)).map((r) => r.year)).toEqual([
      2016, 2017,
    ]);
    expect(
      expectStatus(await get(`${OD}/StatusRows(indicatorId='${indicators[0].id}',year=2016)/Indicator`), 200).code,
    ).toBe('1.1.1');
    const row = `${OD}/StatusRows(indicatorId='${other.indicator.id}',year=2016)`;
    expect(expectStatus(await get(`${row}/Organization`), 200).id).toBe(other.organization.id);
    expect(expectStatus(await get(`${row}/Goal`), 200).id).toBe(other.goal.id);
    expectODataError(await get(`${OD}/Plans('00000000-0000-4000-8000-000000000000')/Directions`), 404);
    expectODataError(await get(`${OD}/Plans('${tree.plan.id}')/Nope`), 404);
  });

  it('is read-only: writes answer 405 in the OData format', async () => {
    const res = await call(ctx.app, 'POST', `${OD}/Plans`, { code: 'x' });
    expectODataError(res, 405, 'MethodNotAllowed');
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

describe('$select, $filter, $orderby', () => {
  it('selects properties, in the context URL too', async () => {
    const body = expectStatus(
      await get(`${OD}/Indicators?$select=code,name&$filter=goalId eq '${tree.goal.id}'&$orderby=code`),
      200,
    );
    expect(body['@odata.context']).toMatch(/#Indicators\(code,name\)$/);
    expect(body.value[0]).toEqual({ code: '1.1.1', name: 'Бірінші' });
  });

  it('filters with comparisons, and/or/not, contains/startswith, in, null', async () => {
    const codes = async (filter: string) =>
      values(
        await get(
          `${OD}/Indicators?$filter=${encodeURIComponent(`goalId eq '${tree.goal.id}' and (${filter})`)}&$orderby=code`,
        ),
      ).map((i) => i.code);
    expect(await codes("code eq '1.1.2'")).toEqual(['1.1.2']);
    expect(await codes("code in ('1.1.1', '1.1.3', 'nope')")).toEqual(['1.1.1', '1.1.3']);
    expect(await codes("startswith(code, '1.1.1')")).toEqual(['1.1.1', '1.1.10']);
    expect(await codes("contains(name, '''Brien')")).toEqual(['1.1.2']);
    expect(await codes("not startswith(code, '1.1.1') or code eq '1.1.10'")).toEqual(['1.1.10', '1.1.2', '1.1.3']);
    expect(await codes("not (code eq '1.1.1' or code eq '1.1.2')")).toEqual(['1.1.10', '1.1.3']);
    expect(await codes('group eq null')).toHaveLength(4);
    expect(await codes('group ne null')).toEqual([]);
    expect(await codes("contains(code, '%')")).toEqual([]);
    expect(await codes("contains(code, '_') or contains(name, '&') or contains(name, '+')")).toEqual([]);
    expect(await codes("endswith(code, '.10')")).toEqual(['1.1.10']);
    expect(await codes("id eq 'not-a-uuid'")).toEqual([]);
  });

  it('keeps two-valued logic: a missing value is not equal, and not of a comparison with it is true', async () => {
    const ids = [indicators[2].id, indicators[3].id].map((id) => `'${id}'`).join(',');
    const years = async (filter: string) =>
      values(await get(`${OD}/Measurements?$filter=${encodeURIComponent(`indicatorId in (${ids}) and (${filter})`)}`))
        .length;
    expect(await years('fact eq 3')).toBe(1);
    expect(await years('fact ne 3')).toBe(1); // the one without a fact
    expect(await years('not (fact eq 3)')).toBe(1);
    expect(await years('not (fact gt 100)')).toBe(2);
    expect(await years('fact gt 100')).toBe(0);
  });

  it('orders by any property, descending too, with the key breaking ties', async () => {
    const desc = values(await get(`${OD}/Indicators?$filter=goalId eq '${tree.goal.id}'&$orderby=code desc`)).map(
      (i) => i.code,
    );
    expect(desc).toEqual(['1.1.3', '1.1.2', '1.1.10', '1.1.1']);
    const byYear = values(await get(`${OD}/Measurements?$orderby=year desc,plan&$select=year,plan`));
    expect(byYear[0]).toEqual({ year: 2017, plan: 1.3 });
  });

  it('resolves localized text to ?lang and Accept-Language, falling back kk, ru, en', async () => {
    const name = async (query: string, headers: Record<string, string> = {}) =>
      expectStatus(await get(`${OD}/Indicators('${indicators[0].id}')?$select=name${query}`, headers), 200).name;
    expect(await name('')).toBe('Бірінші');
    expect(await name('&lang=en')).toBe('First');
    expect(await name('', { 'accept-language': 'ru-RU,ru;q=0.9' })).toBe('Первый');
    expect(expectStatus(await get(`${OD}/Indicators('${other.indicator.id}')?$select=name&lang=en`), 200).name).toBe(
      'Текучесть',
    );
    const filtered = values(await get(`${OD}/Indicators?lang=en&$filter=name eq 'First'`));
    expect(filtered.map((i) => i.id)).toEqual([indicators[0].id]);
  });
});

describe('status rows', () => {
  it('carries the computed fields and filters on them in SQL', async () => {
    const rows = values(
      await get(`${OD}/StatusRows?$filter=planId eq '${tree.plan.id}' and year eq 2016&$orderby=code`),
    );
    expect(rows.map((r) => [r.code, r.status, r.achievementPercent])).toEqual([
      ['1.1.1', 'achieved', 100],
      ['1.1.10', 'not_achieved', 50],
      ['1.1.2', 'pending', null],
      ['1.1.3', 'no_target', null],
    ]);
    const low = values(
      await get(
        `${OD}/StatusRows?$filter=status eq 'not_achieved' and achievementPercent lt 90&$orderby=achievementPercent desc`,
      ),
    );
    expect(low.map((r) => [r.code, r.achievementPercent])).toEqual([
      ['2.1.1', 80],
      ['1.1.10', 50],
    ]);
    expect(values(await get(`${OD}/StatusRows?$filter=deviation eq -5`)).map((r) => r.code)).toEqual(['1.1.10']);
    const worsened = values(await get(`${OD}/StatusRows?$filter=trend eq 'worsened'`));
    expect(worsened.map((r) => [r.code, r.year])).toEqual([['1.1.1', 2017]]);
    expect(values(await get(`${OD}/StatusRows?$filter=trend eq null and planId eq '${tree.plan.id}'`))).toHaveLength(4);
    expect(values(await get(`${OD}/StatusRows?$filter=approved eq false and year eq 2017`)).map((r) => r.code)).toEqual(
      ['1.1.1'],
    );
  });

  it('carries codes and localized names of the organization, plan, direction and goal, and filters on them', async () => {
    const [row] = values(await get(`${OD}/StatusRows?$filter=indicatorId eq '${other.indicator.id}'&lang=en`));
    expect(row).toMatchObject({
      organizationId: other.organization.id,
      organizationCode: other.organization.code,
      organizationName: 'Agency',
      planCode: other.plan.code,
      directionCode: other.direction.code,
      goalCode: other.goal.code,
    });
    expect(typeof row.planTitle).toBe('string');
    const byOrg = values(
      await get(`${OD}/StatusRows?$filter=organizationCode eq '${other.organization.code}'&$select=code`),
    );
    expect(byOrg).toEqual([{ code: '2.1.1' }]);
  });

  it('comes in the natural order without $orderby: plan, direction, goal, indicator code (1.1.10 after 1.1.3), year', async () => {
    const rows = values(await get(`${OD}/StatusRows?$filter=planId eq '${tree.plan.id}'&$select=code,year`));
    expect(rows.map((r) => `${r.code}/${r.year}`)).toEqual([
      '1.1.1/2016',
      '1.1.1/2017',
      '1.1.2/2016',
      '1.1.3/2016',
      '1.1.10/2016',
    ]);
  });

  it('counts with $count=true and refuses to filter on fields computed outside SQL', async () => {
    const body = expectStatus(await get(`${OD}/StatusRows?$count=true&$top=1&$filter=year eq 2016`), 200);
    expect(body['@odata.count']).toBe(5);
    expect(body.value).toHaveLength(1);
    expectODataError(await get(`${OD}/StatusRows?$filter=percentile eq 50`), 400, 'BadQuery');
    expectODataError(await get(`${OD}/StatusRows?$orderby=percentile`), 400, 'BadQuery');
  });
});

describe('paging', () => {
  it('pages by $top and $skip, and follows @odata.nextLink to the end without repeats', async () => {
    const top2 = values(await get(`${OD}/StatusRows?$top=2&$skip=1&$orderby=code`));
    const all = values(await get(`${OD}/StatusRows?$orderby=code`));
    expect(top2).toEqual(all.slice(1, 3));
    expect(values(await get(`${OD}/StatusRows?$top=0`))).toEqual([]);

    const seen: string[] = [];
    let url: string | undefined = `${OD}/StatusRows?$orderby=code&$count=true`;
    let pages = 0;
    while (url) {
      const res = await get(url, { prefer: 'odata.maxpagesize=2' });
      const body = expectStatus(res, 200);
      expect(res.headers['preference-applied']).toBe('odata.maxpagesize=2');
      expect(body['@odata.count']).toBe(all.length);
      seen.push(...body.value.map((r: Json) => `${r.indicatorId}/${r.year}`));
      const next: string | undefined = body['@odata.nextLink'];
      url = next ? next.replace(/^https?:\/\/[^/]+/, '') : undefined;
      pages++;
    }
    expect(pages).toBe(Math.ceil(all.length / 2));
    expect(seen).toEqual(all.map((r) => `${r.indicatorId}/${r.year}`));
  });

  it('keeps $top across pages: the last page stops at it', async () => {
    const first = expectStatus(
      await get(`${OD}/StatusRows?$top=3&$orderby=code`, { prefer: 'odata.maxpagesize=2' }),
      200,
    );
    expect(first.value).toHaveLength(2);
    const next = new URL(first['@odata.nextLink'] as string);
    expect(next.searchParams.get('$skip')).toBe('2');
    expect(next.searchParams.get('$top')).toBe('1');
    const second = expectStatus(await get(`${next.pathname}${next.search}`, { prefer: 'odata.maxpagesize=2' }), 200);
    expect(second.value).toHaveLength(1);
    expect(second['@odata.nextLink']).toBeUndefined();
  });
});

describe('bad input answers in the OData error format and changes nothing', () => {
  it.each([
    ['malformed $filter', '$filter=code eq', 400],
    ['unbalanced parenthesis', "$filter=(code eq '1'", 400],
    ['unknown property', "$filter=nope eq '1'", 400],
    ['wrong type', 'code eq 5', 400],
    ['number against text property', "$filter=year eq 'x'", 400],
    ['ordering on text function', '$orderby=tolower(code)', 400],
    ['unknown $ option', '$filtre=year eq 2016', 400],
    ['unknown plain option', 'yaer=2016', 400],
    ['repeated option', '$top=1&$top=2', 400],
    ['negative $top', '$top=-1', 400],
    ['huge $skip', '$skip=99999999999999999999', 400],
    ['$top not a number', '$top=ten', 400],
    ['bad lang', 'lang=de', 400],
    ['$expand', '$expand=Indicator', 501],
    ['$search', '$search=x', 501],
    ['arithmetic', '$filter=year add 1 eq 2017', 501],
    ['navigation path in $filter', "$filter=Indicator/code eq '1'", 501],
    ['unsupported function', "$filter=substring(code, 1) eq '1'", 501],
    ['parameter alias', '@p=1&$filter=year eq @p', 400],
    ['bad percent-encoding', '$filter=code%ZZ', 400],
    ['$format xml', '$format=xml', 400],
    ['$select of a navigation property', '$select=Indicator', 400],
  ])('%s', async (_name, query, status) => {
    const q = query.startsWith('$') || query.includes('=') ? query : `$filter=${query}`;
    expectODataError(await get(`${OD}/StatusRows?${q}`), status);
  });

  it('does not run a $filter with a huge value into a database error', async () => {
    expectODataError(await get(`${OD}/Measurements?$filter=plan gt ${'9'.repeat(400)}`), 400, 'BadQuery');
    expect(values(await get(`${OD}/Measurements?$filter=plan gt ${'9'.repeat(300)}`))).toEqual([]);
    expect(values(await get(`${OD}/Plans?$filter=startYear eq 99999999999`))).toEqual([]);
    expect(values(await get(`${OD}/Plans?$filter=contains(code, '${'x'.repeat(3000)}')`))).toEqual([]);
  });

  it('refuses a $filter nested past the depth limit', async () => {
    const deep = `${'not ('.repeat(80)}year eq 2016${')'.repeat(80)}`;
    expectODataError(await get(`${OD}/StatusRows?$filter=${encodeURIComponent(deep)}`), 400);
  });
});

describe('access', () => {
  let viewer: TestUser;
  let editor: TestUser;
  beforeAll(async () => {
    viewer = await createTestUser(ctx.app, { role: 'viewer' });
    editor = await createTestUser(ctx.app, { role: 'editor', organizationId: other.organization.id });
  });

  it('needs a token: 401 in the OData format with Bearer and Basic challenges', async () => {
    const res = await get(`${OD}/Plans`, NO_AUTH);
    expectODataError(res, 401, 'Unauthorized');
    expect(res.headers['www-authenticate']).toMatch(/Bearer realm="nysana"/);
    expect(res.headers['www-authenticate']).toMatch(/Basic realm="nysana"/);
    expectODataError(await get(`${OD}/$metadata`, NO_AUTH), 401);
  });

  it('lets viewers and editors read every organization, as the REST API does', async () => {
    for (const user of [viewer, editor]) {
      const plans = values(await get(`${OD}/Plans`, bearer(user.token))).map((p) => p.id);
      expect(plans).toEqual(expect.arrayContaining([tree.plan.id, other.plan.id]));
    }
  });

  it('takes a personal access token as the Basic password, and refuses it once revoked, expired or wrong', async () => {
    const created = expectStatus(
      await call(ctx.app, 'POST', `${API}/me/tokens`, { name: 'Power BI' }, bearer(viewer.token)),
      201,
    );
    const ok = await get(`${OD}/StatusRows?$top=1`, basic(created.token));
    expect(ok.status).toBe(200);
    // A wrong password: another token's shape, and a plain account password.
    expectODataError(await get(`${OD}/StatusRows`, basic(`nys_pat_${'A'.repeat(43)}`)), 401);
    expectODataError(await get(`${OD}/StatusRows`, basic(viewer.password, viewer.email)), 401);
    // Expired: moved into the past in the database.
    const expiring = expectStatus(
      await call(ctx.app, 'POST', `${API}/me/tokens`, { name: 'Excel' }, bearer(viewer.token)),
      201,
    );
    await queryRows(
      ctx,
      sql`update personal_access_tokens set expires_at = now() - interval '1 second' where id = ${expiring.id}::uuid`,
    );
    expectODataError(await get(`${OD}/Plans`, basic(expiring.token)), 401);
    // Revoked.
    const revoked = await call(ctx.app, 'DELETE', `${API}/me/tokens/${created.id}`, undefined, bearer(viewer.token));
    expect(revoked.status).toBe(204);
    const after = await get(`${OD}/StatusRows?$top=1`, basic(created.token));
    expectODataError(after, 401);
    expect(after.headers['www-authenticate']).toMatch(/Basic realm="nysana"/);
  });
});

describe('a bigger tree', () => {
  it('pages a set larger than one page at the default page size', async () => {
    const org = await createOrganization(ctx.app);
    const plan = await createPlan(ctx.app, org.id);
    const direction = await createDirection(ctx.app, plan.id);
    const goal = await createGoal(ctx.app, direction.id);
    await queryRows(
      ctx,
      sql`insert into indicators (goal_id, code, name, unit, source, value_type, better_when, position)
        select ${goal.id}::uuid, 'x.' || g, '{"en":"n"}', '{"en":"%"}', '{"en":"s"}', 'number', 'higher', g
        from generate_series(1, 1001) g`,
    );
    const first = expectStatus(await get(`${OD}/Goals('${goal.id}')/Indicators?$select=code&$count=true`), 200);
    expect(first['@odata.count']).toBe(1001);
    expect(first.value).toHaveLength(1000);
    const next = new URL(first['@odata.nextLink'] as string);
    const second = values(await get(`${next.pathname}${next.search}`));
    expect(second).toHaveLength(1);
  });
});

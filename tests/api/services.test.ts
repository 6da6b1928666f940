/**
 * The services without HTTP: a real database, an Actor built by hand, domain errors caught as
 * classes. Measurement writes (PUT / PATCH / DELETE / bulk), the generic entity writes with a
 * cascade delete that audits every removed row, and the audit recorder itself.
 */
import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit, recordAuditMany } from '../../src/audit/record.js';
import type { EntityRow } from '../../src/crud/repository.js';
import { entityWriteService } from '../../src/crud/service.js';
import type { Db } from '../../src/db/client.js';
import {
  analyticalNotes,
  auditLog,
  directions,
  goals,
  indicators,
  measurements,
  organizations,
  plans,
  risks,
  yearApprovals,
} from '../../src/db/schema.js';
import { BulkMeasurementBody } from '../../src/measurements/bulk.js';
import { measurementService } from '../../src/measurements/service.js';
import '../../src/notes/repository.js'; // registers notes under plans (cascade and its audit form)
import '../../src/risks/repository.js'; // registers risks under goals
import type { Actor } from '../../src/shared/actor.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../../src/shared/errors.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => testDb?.dispose());

const text = (s: string) => ({ en: s });
let counter = 0;
const code = (prefix: string) => `${prefix}-${++counter}`;

const actor = (over: Partial<Actor> = {}): Actor => ({
  kind: 'user',
  id: randomUUID(),
  organizationId: null,
  role: 'admin',
  requestId: randomUUID(),
  correlationId: null,
  ...over,
});

/** organization > plan 2020..2025 > direction > goal > indicator (percent), with one risk and one note. */
async function tree(valueType: 'percent' | 'rank' = 'percent') {
  const [org] = await db
    .insert(organizations)
    .values({ code: code('org'), name: text('Org') })
    .returning();
  const [plan] = await db
    .insert(plans)
    .values({ organizationId: org!.id, code: code('plan'), title: text('Plan'), startYear: 2020, endYear: 2025 })
    .returning();
  const [direction] = await db
    .insert(directions)
    .values({ planId: plan!.id, code: '1', title: text('D'), position: 1 })
    .returning();
  const [goal] = await db
    .insert(goals)
    .values({ directionId: direction!.id, code: '1.1', title: text('G'), position: 1 })
    .returning();
  const [indicator] = await db
    .insert(indicators)
    .values({
      goalId: goal!.id,
      code: code('ind'),
      name: text('I'),
      unit: text('%'),
      source: text('S'),
      valueType,
      betterWhen: valueType === 'rank' ? 'lower' : 'higher',
      position: 1,
    })
    .returning();
  const [risk] = await db
    .insert(risks)
    .values({
      goalId: goal!.id,
      year: 2021,
      position: 1,
      risk: text('R'),
      plannedMeasures: text('M'),
      executionStatus: 'executed',
    })
    .returning();
  const [note] = await db
    .insert(analyticalNotes)
    .values({ planId: plan!.id, year: 2021, blocks: [{ type: 'paragraph', text: text('N') }] })
    .returning();
  return {
    org: org!,
    plan: plan!,
    direction: direction!,
    goal: goal!,
    indicator: indicator!,
    risk: risk!,
    note: note!,
  };
}

const auditOf = (entityKey: string) =>
  db.select().from(auditLog).where(eq(auditLog.entityKey, entityKey)).orderBy(asc(auditLog.id));
const auditByRequest = (requestId: string) =>
  db.select().from(auditLog).where(eq(auditLog.requestId, requestId)).orderBy(asc(auditLog.id));

describe('measurement service', () => {
  const values = { plan: 80, fact: 82.5, ratingSize: null, score: null, note: null };

  it('creates, replaces and patches, auditing each write with the actor and request of the call', async () => {
    const t = await tree();
    const service = measurementService({ db });
    const key = { indicatorId: t.indicator.id, year: 2021 };
    const who = actor({ correlationId: 'trace-1' });
    const created = await service.put(who, key, values, undefined);
    expect(created.created).toBe(true);
    const replaced = await service.put(actor(), key, { ...values, fact: 90 }, { version: created.version });
    expect(replaced.created).toBe(false);
    expect(replaced.version).toBe(created.version + 1);
    const patched = await service.patch(actor(), key, { note: { en: 'kept' } }, undefined);
    expect(Number(patched.fact)).toBe(90);
    expect(patched.note).toEqual({ en: 'kept' });

    const history = await auditOf(`${t.indicator.id}/2021`);
    expect(history.map((h) => h.action)).toEqual(['create', 'update', 'update']);
    expect(history[0]).toMatchObject({
      actorType: 'user',
      actorId: who.id,
      requestId: who.requestId,
      correlationId: 'trace-1',
    });
    expect(history[0]!.before).toBeNull();
    expect(history[0]!.after).toMatchObject({ plan: 80, fact: 82.5, version: 1 });
    expect(history[2]!.before).toMatchObject({ fact: 90, note: null });
  });

  it('refuses with domain errors and changes nothing: unknown indicator, bad year, zero and negative ranks, stale or blind If-Match', async () => {
    const t = await tree('rank');
    const service = measurementService({ db });
    const key = { indicatorId: t.indicator.id, year: 2021 };
    const rank = { plan: 3, fact: 2, ratingSize: 10, score: null, note: null };
    await expect(
      service.put(actor(), { indicatorId: randomUUID(), year: 2021 }, rank, undefined),
    ).rejects.toBeInstanceOf(NotFoundError);
    const badYear = await service.put(actor(), { ...key, year: 2026 }, rank, undefined).catch((e: unknown) => e);
    expect(badYear).toBeInstanceOf(ValidationError);
    expect((badYear as ValidationError).errors?.map((e) => e.path)).toEqual(['params.year']);
    for (const fact of [0, -1, 1.5]) {
      await expect(service.put(actor(), key, { ...rank, fact }, undefined)).rejects.toBeInstanceOf(ValidationError);
    }
    // If-Match on nothing stored ("*" included) is stale by definition.
    await expect(service.put(actor(), key, rank, { version: undefined })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await expect(service.put(actor(), key, rank, { version: 1 })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await db.select().from(measurements).where(eq(measurements.indicatorId, t.indicator.id))).toEqual([]);
    expect(await auditOf(`${t.indicator.id}/2021`)).toEqual([]);

    const stored = await service.put(actor(), key, rank, undefined);
    await expect(
      service.put(actor(), key, { ...rank, fact: 1 }, { version: stored.version + 1 }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(service.remove(actor(), key, { version: 0 })).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(service.remove(actor(), { ...key, year: 2022 }, undefined)).rejects.toBeInstanceOf(NotFoundError);
    expect((await service.get(key)).version).toBe(stored.version);
  });

  it('refuses writes to an approved year with a ConflictError', async () => {
    const t = await tree();
    await db
      .insert(yearApprovals)
      .values({ planId: t.plan.id, year: 2021, document: text('Order 1'), date: '2022-01-10', approvedBy: null });
    const service = measurementService({ db });
    await expect(
      service.put(actor(), { indicatorId: t.indicator.id, year: 2021 }, values, undefined),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      service.put(actor(), { indicatorId: t.indicator.id, year: 2022 }, values, undefined),
    ).resolves.toMatchObject({ created: true });
  });

  it('deletes and ends the history with the deletion', async () => {
    const t = await tree();
    const service = measurementService({ db });
    const key = { indicatorId: t.indicator.id, year: 2020 };
    await service.put(actor(), key, values, undefined);
    await service.remove(actor(), key, { version: undefined });
    const history = await auditOf(`${t.indicator.id}/2020`);
    expect(history.map((h) => h.action)).toEqual(['create', 'delete']);
    expect(history[1]!.before).toMatchObject({ plan: 80, fact: 82.5 });
    await expect(service.get(key)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('bulk: an editor of another organization is forbidden, row by row, and nothing is written', async () => {
    const t = await tree();
    const service = measurementService({ db });
    // As the route hands them over: parsed by the body schema (absent fields become null).
    const { rows } = BulkMeasurementBody.parse({
      rows: [2020, 2021].map((year) => ({ indicatorId: t.indicator.id, year, plan: 1, fact: 2 })),
    });
    const other = actor({ role: 'editor', organizationId: randomUUID() });
    const refused = await service.bulk(other, rows, { dryRun: false, details: false }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect((refused as ForbiddenError).errors?.map((e) => e.path)).toEqual(['body.rows.0', 'body.rows.1']);
    const own = actor({ role: 'editor', organizationId: t.org.id });
    expect(await service.bulk(own, rows, { dryRun: false, details: false })).toMatchObject({
      created: 2,
      updated: 0,
      unchanged: 0,
    });
    const audited = await auditByRequest(own.requestId);
    expect(audited.map((a) => [a.entityKey, a.action, a.actorId])).toEqual([
      [`${t.indicator.id}/2020`, 'create', own.id],
      [`${t.indicator.id}/2021`, 'create', own.id],
    ]);
  });
});

describe('entity write service: cascade delete', () => {
  const planWrites = () =>
    entityWriteService<EntityRow, Record<string, unknown>, Record<string, unknown>>(
      { db },
      {
        name: 'plan',
        table: plans,
        parent: { table: organizations, column: plans.organizationId, name: 'organization' },
        entity: { safeParse: () => ({ success: true }) },
        toDto: (row) => row,
        toInsert: (body, organizationId) => ({ ...body, organizationId }),
        toUpdate: (patch) => patch,
        planOf: async (_tx, row) => row.id,
      },
    );

  it('refuses a delete with children (ConflictError) and leaves everything, audit included', async () => {
    const t = await tree();
    const who = actor();
    await expect(planWrites().remove(who, t.plan.id, { cascade: false, ifMatch: undefined })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await db.select().from(plans).where(eq(plans.id, t.plan.id))).toHaveLength(1);
    expect(await auditByRequest(who.requestId)).toEqual([]);
  });

  it('records one audit entry per removed row, deepest first, the plan last, in the same transaction', async () => {
    const t = await tree();
    const service = measurementService({ db });
    for (const year of [2020, 2021])
      await service.put(
        actor(),
        { indicatorId: t.indicator.id, year },
        { plan: 1, fact: 2, ratingSize: null, score: null, note: null },
        undefined,
      );
    const who = actor({ kind: 'client' });
    await planWrites().remove(who, t.plan.id, { cascade: true, ifMatch: undefined });

    const audited = await auditByRequest(who.requestId);
    expect(audited.every((a) => a.action === 'delete' && a.actorType === 'client' && a.actorId === who.id)).toBe(true);
    const byType = (type: string) => audited.filter((a) => a.entityType === type);
    expect(byType('measurement')).toHaveLength(2);
    expect(byType('indicator').map((a) => a.entityId)).toEqual([t.indicator.id]);
    expect(byType('risk').map((a) => a.entityId)).toEqual([t.risk.id]);
    expect(byType('goal').map((a) => a.entityId)).toEqual([t.goal.id]);
    expect(byType('direction').map((a) => a.entityId)).toEqual([t.direction.id]);
    expect(byType('note').map((a) => [a.entityId, a.entityKey])).toEqual([[t.note.id, `${t.plan.id}/2021`]]);
    expect(audited.at(-1)).toMatchObject({ entityType: 'plan', entityId: t.plan.id });
    // Deepest first: measurements before their indicator, the indicator before its goal.
    const at = (type: string) => audited.findIndex((a) => a.entityType === type);
    expect(at('measurement')).toBeLessThan(at('indicator'));
    expect(at('indicator')).toBeLessThan(at('goal'));
    expect(at('goal')).toBeLessThan(at('direction'));
    // The API forms: numbers for a measurement, ISO timestamps, localized text.
    expect(byType('measurement')[0]!.before).toMatchObject({ indicatorId: t.indicator.id, plan: 1, fact: 2 });
    expect(byType('risk')[0]!.before).toMatchObject({ goalId: t.goal.id, year: 2021, executionStatus: 'executed' });
    expect(byType('goal')[0]!.before).toMatchObject({ code: '1.1', title: { en: 'G' } });
    expect(typeof (byType('goal')[0]!.before as { createdAt: unknown }).createdAt).toBe('string');

    // Each measurement's history ends with its deletion.
    for (const year of [2020, 2021]) {
      expect((await auditOf(`${t.indicator.id}/${year}`)).map((h) => h.action)).toEqual(['create', 'delete']);
    }
    expect(await db.select().from(measurements).where(eq(measurements.indicatorId, t.indicator.id))).toEqual([]);
  });

  it('rolls the whole cascade back, audit rows included, when the plan has an approved year', async () => {
    const t = await tree();
    await db
      .insert(yearApprovals)
      .values({ planId: t.plan.id, year: 2020, document: text('Order'), date: '2021-01-10', approvedBy: null });
    const who = actor();
    await expect(planWrites().remove(who, t.plan.id, { cascade: true, ifMatch: undefined })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await db.select().from(goals).where(eq(goals.id, t.goal.id))).toHaveLength(1);
    expect(await auditByRequest(who.requestId)).toEqual([]);
  });

  it('answers NotFoundError for a missing row and PreconditionFailedError for a stale If-Match', async () => {
    const t = await tree();
    await expect(
      planWrites().remove(actor(), randomUUID(), { cascade: true, ifMatch: undefined }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      planWrites().remove(actor(), t.plan.id, { cascade: true, ifMatch: { version: t.plan.version + 1 } }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(
      planWrites().create(actor(), randomUUID(), { code: 'x', title: text('x'), startYear: 2020, endYear: 2021 }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('audit recorder', () => {
  it('recordAuditMany writes nothing for no entries, and the same rows as recordAudit, in order, for many', async () => {
    const who = actor({ kind: 'system', id: null, correlationId: 'c-1' });
    await recordAuditMany(db, who, []);
    expect(await auditByRequest(who.requestId)).toEqual([]);
    const entry = (i: number) => ({
      entityType: 'thing',
      entityId: `id-${i}`,
      entityKey: i % 2 ? `k/${i}` : undefined,
      action: 'update' as const,
      before:
        i % 3 ? { n: i, at: new Date(Date.UTC(2020, 0, i + 1)), gone: undefined, text: 'line\u2028"quoted"\\' } : null,
      after: { n: i + 1, nested: { list: [1, null, 'x'] } },
    });
    await recordAuditMany(
      db,
      who,
      Array.from({ length: 5 }, (_, i) => entry(i)),
    );
    const other = actor({ kind: 'system', id: null, correlationId: 'c-1' });
    for (let i = 0; i < 5; i++) await recordAudit(db, other, entry(i));
    const strip = (rows: (typeof auditLog.$inferSelect)[]) =>
      rows.map(({ id: _id, at: _at, requestId: _r, changeXid: _c, ...rest }) => rest);
    const many = await auditByRequest(who.requestId);
    expect(many.map((r) => r.entityId)).toEqual(['id-0', 'id-1', 'id-2', 'id-3', 'id-4']);
    expect(strip(many)).toEqual(strip(await auditByRequest(other.requestId)));
    expect(many[1]!.before).toEqual({ n: 1, at: '2020-01-02T00:00:00.000Z', text: 'line\u2028"quoted"\\' });
    expect(many[0]).toMatchObject({
      actorType: 'system',
      actorId: null,
      entityKey: null,
      before: null,
      correlationId: 'c-1',
    });
  });
});

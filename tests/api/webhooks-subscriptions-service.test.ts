/**
 * The webhook subscription service without HTTP: who it serves (single sign-on callers included), the
 * target resolved at save time through a given lookup (a name with one private address refused), secrets
 * stored as they are without an encryption key, and the redelivery bound.
 */
import { randomUUID } from 'node:crypto';
import { DrizzleQueryError, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { webhookDeliveries, webhookSubscriptions } from '../../src/db/schema.js';
import type { Actor } from '../../src/shared/actor.js';
import { ForbiddenError, ValidationError } from '../../src/shared/errors.js';
import { newSigningSecret } from '../../src/webhooks/secret.js';
import { rotateSecret } from '../../src/webhooks/subscriptions/repository.js';
import { MAX_REDELIVER } from '../../src/webhooks/subscriptions/schemas.js';
import type { SubscriptionConfig } from '../../src/webhooks/subscriptions/service.js';
import { scopeOf, webhookSubscriptionService } from '../../src/webhooks/subscriptions/service.js';
import type { Lookup } from '../../src/webhooks/target.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => testDb?.dispose());

const actor = (over: Partial<Actor>): Actor => ({
  kind: 'user',
  id: randomUUID(),
  organizationId: null,
  role: 'admin',
  requestId: 'req-test',
  correlationId: null,
  ...over,
});
const admin = actor({});
const config: SubscriptionConfig = {
  JWT_KEY_ENCRYPTION_SECRET: undefined,
  WEBHOOK_ALLOW_HTTP: false,
  WEBHOOK_ALLOW_PRIVATE_TARGETS: false,
};
const lookup: Lookup = async (host) => {
  const answers: Record<string, string[]> = {
    'hooks.example.test': ['93.184.215.14'],
    'rebind.example.test': ['93.184.215.14', '192.168.0.10'],
  };
  const found = answers[host];
  if (!found) throw Object.assign(new Error('no such host'), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: 4 as const }));
};
const values = (url: string) => ({
  url,
  eventTypes: ['kz.nysana.year.approved' as const],
  organizationId: null,
  planId: null,
  description: null,
  enabled: true,
});

describe('who the service serves', () => {
  it('admins of every kind see all; a service client its own; everyone else is refused', () => {
    expect(scopeOf(admin)).toEqual({ all: true });
    expect(scopeOf(actor({ kind: 'sso', id: 'idp-subject' }))).toEqual({ all: true });
    const client = actor({ kind: 'client', role: 'viewer' });
    expect(scopeOf(client)).toEqual({ all: false, clientId: client.id });
    for (const who of [
      actor({ role: 'editor', organizationId: randomUUID() }),
      actor({ role: 'viewer' }),
      actor({ kind: 'sso', role: 'editor' }),
      actor({ kind: 'system', id: null, role: 'viewer' }),
    ]) {
      expect(() => scopeOf(who)).toThrow(ForbiddenError);
    }
  });
});

describe('saving a target', () => {
  it('resolves a name at save time and refuses one with a private address among its public ones', async () => {
    const service = webhookSubscriptionService({ db, config, lookup });
    const created = await service.create(admin, values('https://hooks.example.test/in'));
    expect(created.dto.url).toBe('https://hooks.example.test/in');
    const refused = service.create(admin, values('https://rebind.example.test/in'));
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({
      detail: 'host rebind.example.test resolves to a non-public address (192.168.0.10)',
      errors: [{ path: 'body.url', message: expect.stringContaining('192.168.0.10') }],
    });
    await expect(service.create(admin, values('https://unknown.example.test/in'))).rejects.toThrow(/does not resolve/);
    await expect(
      service.patch(admin, created.dto.id, { url: 'https://rebind.example.test/in' }, undefined),
    ).rejects.toBeInstanceOf(ValidationError);
    const [row] = await db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, created.dto.id));
    expect(row!.url).toBe('https://hooks.example.test/in');
  });

  it('takes http and private targets when configured so (tests, an internal network by choice)', async () => {
    const service = webhookSubscriptionService({
      db,
      config: { ...config, WEBHOOK_ALLOW_HTTP: true, WEBHOOK_ALLOW_PRIVATE_TARGETS: true },
      lookup,
    });
    expect((await service.create(admin, values('http://127.0.0.1:9999/in'))).dto.url).toBe('http://127.0.0.1:9999/in');
    expect((await service.create(admin, values('https://rebind.example.test/in'))).dto.enabled).toBe(true);
  });

  it('stores the secret as it is without JWT_KEY_ENCRYPTION_SECRET', async () => {
    const service = webhookSubscriptionService({ db, config, lookup });
    const created = await service.create(admin, values('https://hooks.example.test/plain'));
    const [row] = await db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, created.dto.id));
    expect(row!.secret).toBe(created.secret);
  });
});

describe('the redelivery bound', () => {
  it(`queues at most ${MAX_REDELIVER} events at once; more is refused with nothing queued`, async () => {
    const service = webhookSubscriptionService({ db, config, lookup });
    const { dto } = await service.create(admin, values('https://hooks.example.test/many'));
    // As the relay and dispatcher would leave them: MAX_REDELIVER + 1 events, each delivered once, a minute apart.
    await db.execute(sql`
      with e as (
        insert into webhook_events (type, source, time, data)
        select 'kz.nysana.year.approved', '/api/v1', timestamptz '2026-01-01T00:00:00Z' + make_interval(mins => i), '{}'::jsonb
        from generate_series(1, ${MAX_REDELIVER + 1}) as i
        returning id
      )
      insert into webhook_deliveries (subscription_id, event_id, status) select ${dto.id}::uuid, id, 'succeeded' from e`);
    const pending = async () =>
      (await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, dto.id))).filter(
        (d) => d.status === 'pending',
      ).length;

    await expect(service.redeliver(admin, dto.id, { since: '2026-01-01T00:00:00Z' })).rejects.toThrow(ValidationError);
    expect(await pending()).toBe(0);
    // One minute later leaves exactly the bound.
    expect(await service.redeliver(admin, dto.id, { since: '2026-01-01T00:02:00Z' })).toBe(MAX_REDELIVER);
    expect(await pending()).toBe(MAX_REDELIVER);
  });
});

describe('a failed write never carries the secret into its error (the error handler logs errors whole)', () => {
  /** Everything pino's error serializer would write: the message, the stack and the own properties. */
  const logged = (error: unknown) => {
    const e = error as Error & Record<string, unknown>;
    return `${e.message}\n${e.stack}\n${JSON.stringify({ ...e, cause: undefined })}`;
  };

  it('creating for a service client that no longer exists fails in the database; the error names no whsec_', async () => {
    const service = webhookSubscriptionService({ db, config, lookup });
    const gone = actor({ kind: 'client', role: 'viewer' });
    const error = await service.create(gone, values('https://hooks.example.test/gone')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrizzleQueryError);
    // The SQLSTATE the error handler maps is still there (a foreign key violation).
    expect(((error as DrizzleQueryError).cause as { code?: string }).code).toBe('23503');
    expect(logged(error)).toContain('[webhook secret]');
    expect(logged(error)).not.toMatch(/whsec_/);
    expect(
      await db
        .select()
        .from(webhookSubscriptions)
        .where(eq(webhookSubscriptions.url, 'https://hooks.example.test/gone')),
    ).toEqual([]);
  });

  it('a rotation that fails in the database: the error names no whsec_', async () => {
    const service = webhookSubscriptionService({ db, config, lookup });
    const { dto } = await service.create(admin, values('https://hooks.example.test/rotate'));
    const secret = newSigningSecret();
    // An overlap beyond PostgreSQL's integer range makes the statement itself fail.
    const error = await db.transaction((tx) => rotateSecret(tx, dto.id, secret, 2 ** 31)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrizzleQueryError);
    expect(logged(error)).not.toContain(secret);
    expect(logged(error)).not.toMatch(/whsec_/);
  });
});

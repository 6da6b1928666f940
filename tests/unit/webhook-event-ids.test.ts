/**
 * Relayed events' ids are name-based (docs/webhooks.md, "Delivery"): what the event is names it, so a relay run
 * redone after a crash gives the ids it gave before. The expected UUIDs were computed independently (Python's
 * uuid.uuid5 in the same namespace).
 */
import { describe, expect, it } from 'vitest';
import { eventsOf, nameBasedUuid, PlanTree } from '../../src/webhooks/relay/events.js';
import type { AuditRow } from '../../src/webhooks/relay/repository.js';

describe('nameBasedUuid', () => {
  it('is RFC 9562 version 5 (SHA-1) in the events namespace', () => {
    expect(nameBasedUuid('1/2026-01-01T00:00:00.000Z/t/s')).toBe('038cc58d-3c9f-581c-9f29-92f98e729282');
    expect(nameBasedUuid('42/2026-12-07T10:00:00.123Z/kz.nysana.measurement.updated/и')).toBe(
      '9f0282f3-7393-58f4-9983-98a763eede3b',
    );
  });
});

describe('eventsOf', () => {
  const indicatorId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
  const row = (id: number, at: string, fact: number): AuditRow => ({
    id,
    changeXid: 1000 + id,
    at: new Date(at),
    entityType: 'measurement',
    entityId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60',
    entityKey: `${indicatorId}/2016`,
    action: 'update',
    before: { indicatorId, year: 2016, plan: 10, fact: 12 },
    after: { indicatorId, year: 2016, plan: 10, fact },
  });
  const inputs = (now: Date) => ({
    tree: new PlanTree([], []),
    rulesOf: () => {
      throw new Error('no indicator context: nothing is scored');
    },
    now,
  });

  it('gives an audit row the same ids every time it is relayed, whatever the clock', () => {
    const a = eventsOf(inputs(new Date('2026-12-07T10:00:00Z')), row(7, '2026-12-07T09:59:59.001Z', 8));
    const b = eventsOf(inputs(new Date('2026-12-08T00:00:00Z')), row(7, '2026-12-07T09:59:59.001Z', 8));
    expect(a).toHaveLength(1);
    expect(a.map((e) => e.id)).toEqual(b.map((e) => e.id));
    expect(a[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives another row, or the same audit id at another time (a restored database), another id', () => {
    const id = (r: AuditRow) => eventsOf(inputs(new Date()), r)[0]!.id;
    const base = id(row(7, '2026-12-07T09:59:59.001Z', 8));
    expect(id(row(8, '2026-12-07T09:59:59.001Z', 8))).not.toBe(base);
    expect(id(row(7, '2026-12-07T09:59:59.002Z', 8))).not.toBe(base);
  });
});

import { describe, expect, it } from 'vitest';
import { Uuid } from '../../src/shared/schemas.js';
import { uuidv7 } from '../../src/shared/uuidv7.js';

const hex = (id: string) => id.replaceAll('-', '');

describe('uuidv7', () => {
  it('is a valid UUID of version 7 and variant 10xx', () => {
    for (let i = 0; i < 1000; i++) {
      const id = uuidv7();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Uuid.safeParse(id).success).toBe(true);
    }
  });

  it('carries the 48-bit Unix millisecond timestamp first', () => {
    const now = Date.UTC(2026, 10, 29, 12, 34, 56, 789);
    expect(parseInt(hex(uuidv7(now)).slice(0, 12), 16)).toBe(now);
    // Above 2^32 ms and near the top of the 48-bit range: every byte in place.
    expect(hex(uuidv7(0xfedcba987654)).slice(0, 12)).toBe('fedcba987654');
    expect(hex(uuidv7(0)).slice(0, 12)).toBe('000000000000');
  });

  it('sorts by time across milliseconds, as text and as PostgreSQL compares uuids (bytewise)', () => {
    const start = Date.now();
    const ids = Array.from({ length: 2000 }, (_, i) => uuidv7(start + Math.floor(i / 4)));
    const byTime = [...ids];
    ids.sort();
    for (let i = 1; i < ids.length; i++) {
      // Within one millisecond the order is random; across milliseconds it follows time.
      expect(hex(ids[i - 1]!).slice(0, 12) <= hex(ids[i]!).slice(0, 12)).toBe(true);
    }
    expect(ids.map((id) => hex(id).slice(0, 12))).toEqual(byTime.map((id) => hex(id).slice(0, 12)));
  });

  it('is random after the timestamp', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 5000 }, () => uuidv7(now)));
    expect(ids.size).toBe(5000);
  });
});

/** The read model's row decoder (src/status/read-model.ts): compiled once per column list. */
import { describe, expect, it } from 'vitest';
import { decodeRows, rowDecoder } from '../../src/status/read-model.js';

describe('rowDecoder', () => {
  it('maps each key to its position, from an offset, and keeps nulls, objects and odd names as they are', () => {
    const keys = ['id', 'plan', 'name', 'it\'s "odd"\n', '__proto__x'];
    const decode = rowDecoder<Record<string, unknown>>(keys, 2);
    const name = { kk: 'Атауы' };
    const row = decode(['skip', 'me', 'a', null, name, 7, false]);
    expect(row).toEqual({ id: 'a', plan: null, name, 'it\'s "odd"\n': 7, __proto__x: false });
    expect(Object.keys(row)).toEqual(keys);
    expect(row.name).toBe(name); // not copied
  });

  it('gives a fresh object per row, and the same decoder for the same column list', () => {
    const decode = rowDecoder<{ a: unknown }>(['a']);
    const one = decode([1]);
    one.a = 2;
    expect(decode([1])).toEqual({ a: 1 });
    expect(rowDecoder(['a'])).toBe(decode);
    expect(rowDecoder(['a'], 1)).not.toBe(decode);
  });

  it('decodes zero rows and rows shorter than the keys (missing values are undefined)', () => {
    expect(decodeRows(['a', 'b'], [])).toEqual([]);
    expect(decodeRows<{ a: unknown; b: unknown }>(['a', 'b'], [[1]])[0]).toEqual({ a: 1, b: undefined });
  });
});

describe('rowDecoder refuses', () => {
  it('a column named __proto__ (a literal would set the prototype)', () => {
    expect(() => rowDecoder(['a', '__proto__'])).toThrow(/__proto__/);
  });
});

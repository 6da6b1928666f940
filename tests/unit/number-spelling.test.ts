/**
 * isNumberSpelling (src/shared/decimal.ts): numeric text that is already JavaScript's spelling of its
 * number, which the status CSV copies instead of printing a double. It may answer false for text that
 * is such a spelling (the writer then prints the number, the same bytes), never true for text that is not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNumberSpelling } from '../../src/shared/decimal.js';

const spelled = (text: string) => `${Number(text)}` === text;

describe('isNumberSpelling', () => {
  it('answers true exactly where JavaScript spells the number the same, on the edges', () => {
    const cases: [string, boolean][] = [
      ['0', true],
      ['7', true],
      ['-7', true],
      ['12.5', true],
      ['-0.25', true],
      ['0.000001', true],
      ['0.0000001', false], // 1e-7
      ['123456789012345', true],
      ['1234567890123456', false], // 16 digits: not necessarily the double's spelling
      ['0.123456789012345', true],
      ['0.1234567890123456', false],
      ['-0', false], // JavaScript spells -0 as 0
      ['-0.0', false],
      ['0.0', false],
      ['12.50', false],
      ['12.', false],
      ['.5', false],
      ['007', false],
      ['00.5', false],
      ['1e5', false],
      ['+1', false],
      ['', false],
      ['-', false],
      ['1.2.3', false],
      ['1000000000000000000000', false],
      ['100000000000000', true],
    ];
    for (const [text, expected] of cases) {
      expect(isNumberSpelling(text), text).toBe(expected);
      if (expected) expect(spelled(text), text).toBe(true);
    }
  });

  it('is never true where the spelling differs, over generated decimals of every scale', () => {
    const decimal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^[0-9]{1,22}$/),
        fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }),
      )
      .map(([minus, int, frac]) => `${minus ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`);
    fc.assert(
      fc.property(decimal, (text) => {
        if (isNumberSpelling(text)) expect(spelled(text)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    // And it copies the common case: the spellings of doubles with up to 15 significant digits.
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 3 }), (m, k) => {
        const text = `${m / 10 ** k}`;
        if (!text.includes('e')) expect(isNumberSpelling(text), text).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});

/**
 * The next page's target (src/http/pagination.ts): plain first-page targets take a shortcut past
 * the URL API; whatever the target, the answer must be the URL API's own (?cursor= set once, the
 * rest of the query as URLSearchParams serializes it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextPageTarget } from '../../src/http/pagination.js';

function byUrlApi(target: string, cursor: string): string {
  const url = new URL(target, 'http://x');
  url.searchParams.set('cursor', cursor);
  return `${url.pathname}${url.search}`;
}

// "//x" is not a path to the URL API (it throws either way): compare outcomes, errors included.
function outcome(f: () => string): string {
  try {
    return f();
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}

const CURSOR = 'WyJQLTEiLCI1MjdiMTkzOS1mMGI3IiwyMDIwXQ';

describe('nextPageTarget', () => {
  it('appends the cursor to a plain target, as the URL API would', () => {
    expect(nextPageTarget('/api/v1/status?year=2020&limit=50', CURSOR)).toBe(
      `/api/v1/status?year=2020&limit=50&cursor=${CURSOR}`,
    );
    expect(nextPageTarget('/api/v1/plans', CURSOR)).toBe(`/api/v1/plans?cursor=${CURSOR}`);
  });

  it.each([
    '/api/v1/status?year=2020&cursor=old&limit=5',
    '/api/v1/status?cursor=old',
    '/api/v1/status?cursor=a&cursor=b&limit=2',
    '/api/v1/status?q=a+b&limit=2',
    '/api/v1/status?q=%D0%B0&limit=2',
    '/api/v1/status?q=a%20b',
    '/api/v1/status?flag&limit=2',
    '/api/v1/status?a=b=c',
    '/api/v1/status?limit=2&&year=2020',
    '/api/v1/status?',
    '/api/v1/status?=x',
    '/api/v1/./status?limit=2',
    '/api/v1/x/../status?limit=2',
    '/api/v1/st%61tus?limit=2',
    '/api/v1/status/?limit=2',
    '/',
    '/api/v1/status?limit=2#frag',
    '/api/v1/status?x$=1',
    '/api/v1/status?x=!',
  ])('answers %s as the URL API does', (target) => {
    expect(nextPageTarget(target, CURSOR)).toBe(byUrlApi(target, CURSOR));
  });

  it('agrees with the URL API on arbitrary targets and cursors', () => {
    const part = fc.string({
      unit: fc.constantFrom(
        'a',
        'Z',
        '0',
        '_',
        '-',
        '.',
        '*',
        '=',
        '&',
        '%',
        '+',
        ' ',
        '/',
        '?',
        '#',
        'ы',
        'c',
        'u',
        'r',
        's',
        'o',
      ),
    });
    fc.assert(
      fc.property(part, part, fc.string(), (path, query, cursor) => {
        for (const target of [`/${path}?${query}`, `/${path}`])
          expect(outcome(() => nextPageTarget(target, cursor))).toBe(outcome(() => byUrlApi(target, cursor)));
      }),
      { numRuns: 2000 },
    );
  });
});

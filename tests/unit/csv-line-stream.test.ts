import { describe, expect, it } from 'vitest';
import { csvLineStream } from '../../src/exports/tabular.js';

async function text(stream: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

describe('csvLineStream', () => {
  it('writes every row once, in order, and drops each row from its page once it is written', async () => {
    const pages = [
      [{ n: 1 }, { n: 2 }, { n: 3 }],
      [{ n: 4 }, { n: 5 }],
    ];
    const seenBefore: unknown[][] = [];
    async function* source() {
      for (const page of pages) yield page;
    }
    const out = await text(
      csvLineStream('h\r\n', source(), (row: { n: number }) => {
        // What the page still holds while this row is written: the rows before it are gone.
        const page = pages.find((p) => p.includes(row))!;
        seenBefore.push(page.slice(0, page.indexOf(row)));
        return `row ${row.n}`;
      }),
    );
    expect(out).toBe('h\r\nrow 1\r\nrow 2\r\nrow 3\r\nrow 4\r\nrow 5\r\n');
    expect(seenBefore).toEqual([[], [undefined], [undefined, undefined], [], [undefined]]);
    expect(pages).toEqual([
      [undefined, undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it("writes each row's head bytes before its line, across chunk boundaries and heads larger than a chunk", async () => {
    const big = Buffer.from('é'.repeat(200_000)); // 400,000 bytes: more than one chunk
    const rows = [
      { n: 1, head: Buffer.from('Ж,') },
      { n: 2, head: big },
      { n: 3, head: Buffer.from('') },
    ];
    async function* source() {
      yield rows.slice(0, 2);
      yield rows.slice(2);
    }
    const out = await text(
      csvLineStream(
        'h\r\n',
        source(),
        (row) => `line ${row.n}`,
        (row) => row.head,
      ),
    );
    expect(out).toBe(`h\r\nЖ,line 1\r\n${'é'.repeat(200_000)}line 2\r\nline 3\r\n`);
  });
});

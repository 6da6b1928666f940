/**
 * Time-ordered UUIDs (RFC 9562 version 7): 48-bit Unix milliseconds, then the version and variant
 * bits around 74 random bits. Ids made later sort later (within one millisecond their order is
 * random), so a b-tree over them (a primary key, the audit's entity_id) grows at its right edge
 * instead of dirtying random pages all over the index.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Random bytes drawn 4 KiB at a time: one randomFillSync per 256 ids, not per id. */
const pool = new Uint8Array(4096);
let offset = pool.length;

export function uuidv7(now: number = Date.now()): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + 16);
  offset += 16;
  const high = Math.floor(now / 2 ** 32); // the upper 16 bits of the 48-bit timestamp
  b[0] = (high >>> 8) & 0xff;
  b[1] = high & 0xff;
  b[2] = (now >>> 24) & 0xff;
  b[3] = (now >>> 16) & 0xff;
  b[4] = (now >>> 8) & 0xff;
  b[5] = now & 0xff;
  b[6] = 0x70 | (b[6]! & 0x0f); // version 7
  b[8] = 0x80 | (b[8]! & 0x3f); // variant 10xx
  const h = (i: number) => HEX[b[i]!]!;
  return (
    h(0) +
    h(1) +
    h(2) +
    h(3) +
    '-' +
    h(4) +
    h(5) +
    '-' +
    h(6) +
    h(7) +
    '-' +
    h(8) +
    h(9) +
    '-' +
    h(10) +
    h(11) +
    h(12) +
    h(13) +
    h(14) +
    h(15)
  );
}

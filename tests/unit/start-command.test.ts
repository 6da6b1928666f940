/**
 * How production runs node: `npm start` (package.json), the Docker image's CMD and the bench's
 * servers give node the same flags, and the young-generation flag among them takes effect (V8
 * sizes its young generation at heap setup, so it cannot be set from src/server.ts as
 * HEAP_GROWING_PERCENT is).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNodeFlags } from '../../bench/node-flags.js';

const root = path.resolve(import.meta.dirname, '../..');

/** The young generation's capacity in MB once a process with `flags` has kept objects alive across scavenges. */
function grownNewSpaceMb(flags: string[]): number {
  const script = `
    const v8 = require('node:v8');
    let keep = [];
    for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 200000) keep = []; }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(space.space_size / 2 ** 20));`;
  return Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
}

describe('the node command line', () => {
  it("is the same in npm start and the Docker image's CMD, and sets V8's semi-space", () => {
    const flags = startNodeFlags();
    expect(flags).toContain('--max-semi-space-size=32');
    const dockerfile = readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd, 'the Dockerfile has an exec-form CMD').not.toBeNull();
    expect(JSON.parse(cmd![1]!)).toEqual(['node', ...flags, 'dist/server.js']);
  });

  it('lets the young generation grow past the default (2 x 16 MB semi-spaces)', () => {
    expect(grownNewSpaceMb([])).toBeLessThanOrEqual(32);
    expect(grownNewSpaceMb(startNodeFlags())).toBeGreaterThan(32);
  }, 30_000);
});

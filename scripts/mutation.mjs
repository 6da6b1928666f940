#!/usr/bin/env node
/**
 * `npm run test:mutation [area...]`: Stryker over each area of scripts/mutation-areas.mjs in turn
 * (all of them when none is named), then one line per area with its score and run time.
 * Reports: reports/mutation/<area>.html and .json. Not part of `npm test`: it takes minutes per
 * area (docs/testing.md has the measured times).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AREAS } from './mutation-areas.mjs';

const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in AREAS));
if (unknown.length > 0) {
  console.error(`unknown area(s) ${unknown.join(', ')}; one of: ${Object.keys(AREAS).join(', ')}`);
  process.exit(2);
}
const areas = asked.length > 0 ? asked : Object.keys(AREAS);
const lines = [];
let failed = false;
for (const area of areas) {
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, MUTATION_AREA: area } });
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  if (run.status !== 0) {
    failed = true;
    lines.push(`${area}: stryker exited with ${run.status} after ${minutes} min`);
    continue;
  }
  const report = JSON.parse(readFileSync(`reports/mutation/${area}.json`, 'utf8'));
  const counts = {};
  for (const file of Object.values(report.files))
    for (const m of file.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const killed = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const detectable = killed + (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  const score = detectable === 0 ? 100 : (100 * killed) / detectable;
  lines.push(
    `${area}: ${score.toFixed(2)}% (${killed} killed, ${counts.Survived ?? 0} survived, ${counts.NoCoverage ?? 0} no coverage) in ${minutes} min`,
  );
}
console.log(`\nmutation scores:\n${lines.map((l) => `  ${l}`).join('\n')}`);
process.exit(failed ? 1 : 0);

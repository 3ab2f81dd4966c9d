import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { auditBench } from './audit.bench.js';
import { eventsBench } from './events.bench.js';
import { handoffBench } from './handoff.bench.js';
import { limitsBench } from './limits.bench.js';
import { BenchResult, machine, ROOT, startPostgres } from './lib.js';
import { readPathBench } from './read-path.bench.js';
import { sweepBench } from './sweep.bench.js';
import { testAndSaveBench } from './test-and-save.bench.js';
import { unauthenticatedBench } from './unauthenticated.bench.js';

/**
 * `npm run bench [-- --quick] [-- --only sweep,read,save,audit,handoff,events,limits,unauthenticated]`: every figure measured side by
 * side in this one run, on loopback, written to bench/results/latest.json.
 */
const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const quick = values.quick ?? false;
const only = values.only?.split(',');
const benches: [
  string,
  (pg: Awaited<ReturnType<typeof startPostgres>>, quick: boolean) => Promise<BenchResult>,
][] = [
  ['sweep', sweepBench],
  ['read', readPathBench],
  ['save', testAndSaveBench],
  ['audit', auditBench],
  ['handoff', handoffBench],
  ['events', eventsBench],
  ['limits', limitsBench],
  ['unauthenticated', unauthenticatedBench],
];

const started = Date.now();
console.log(`dynamics365-connector benchmarks (${quick ? 'quick' : 'full'}) on ${JSON.stringify(machine())}`);
const pg = await startPostgres();
const results: BenchResult[] = [];
try {
  for (const [name, bench] of benches) {
    if (only && !only.includes(name)) continue;
    results.push(await bench(pg, quick));
  }
} finally {
  await pg.stop();
}
const report = {
  generated_at: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  duration_s: Math.round((Date.now() - started) / 1000),
  machine: machine(),
  benchmarks: results,
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/latest.json'), JSON.stringify(report, null, 2) + '\n');
console.log('\nTargets:');
for (const r of results)
  for (const t of r.targets) console.log(`  ${t.met ? 'met    ' : 'MISSED '} ${r.name}: ${t.description}`);
console.log(`\nWrote bench/results/latest.json (${report.duration_s} s)`);

/**
 * npm run bench. In order: engine figures (pure CPU, no service), the check
 * lookup on a large bank, then the service end to end at N/10 and N
 * questions (scaling). Sizes from the environment:
 *   BENCH_GROUP_SIZE  one-group dedup and cached re-run   (default 50000)
 *   BENCH_CHECK_BANK  bank for the check lookup            (default 1000000; 0 skips)
 *   BENCH_SERVICE_N   questions imported into the service  (default 1000000; 0 skips)
 */
import { runCheckBench } from './check.ts';
import { loadCorpus } from './corpus.ts';
import { runEngineBench } from './engine.ts';
import { runServiceBench } from './service.ts';

const log = (line: string) => console.log(line);
const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const corpus = loadCorpus();
if (corpus.source === 'synthetic') log('note: ../shared/data/gaokao-bench is absent; using synthetic texts');

runEngineBench(corpus, log, { groupSize: size('BENCH_GROUP_SIZE', 50_000) });

const bank = size('BENCH_CHECK_BANK', 1_000_000);
if (bank > 0) await runCheckBench(corpus, log, bank);

const n = size('BENCH_SERVICE_N', 1_000_000);
if (n > 0) {
  const small = Math.max(1000, Math.round(n / 10));
  log(`service, ${small} questions:`);
  const a = await runServiceBench(corpus, log, small);
  log(`service, ${n} questions:`);
  const b = await runServiceBench(corpus, log, n);
  log(`scaling x${(n / small).toFixed(0)} data: import x${(b.importMs / a.importMs).toFixed(1)} time, task x${(b.taskMs / a.taskMs).toFixed(1)} time`);
}
process.exit(0);

/**
 * npm run bench. Engine figures first (pure CPU, no service needed), then
 * the check lookup on a large bank. Sizes: BENCH_GROUP_SIZE (default
 * 50000), BENCH_CHECK_BANK (default 1000000; 0 skips).
 */
import { runCheckBench } from './check.ts';
import { loadCorpus } from './corpus.ts';
import { runEngineBench } from './engine.ts';

const log = (line: string) => console.log(line);
const corpus = loadCorpus();
if (corpus.source === 'synthetic') log('note: ../shared/data/gaokao-bench is absent; using synthetic texts');
runEngineBench(corpus, log, { groupSize: Number(process.env.BENCH_GROUP_SIZE ?? 50_000) });
const bank = Number(process.env.BENCH_CHECK_BANK ?? 1_000_000);
if (bank > 0) await runCheckBench(corpus, log, bank);

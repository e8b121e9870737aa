/**
 * npm run bench. Engine figures first (pure CPU, no service needed); the
 * service figures (import, task, check) follow when the service can start.
 */
import { runEngineBench } from './engine.ts';
import { loadCorpus } from './corpus.ts';

const log = (line: string) => console.log(line);
const corpus = loadCorpus();
if (corpus.source === 'synthetic') log('note: ../shared/data/gaokao-bench is absent; using synthetic texts');
runEngineBench(corpus, log, { groupSize: Number(process.env.BENCH_GROUP_SIZE ?? 50_000) });

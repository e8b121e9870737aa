/**
 * npm run bench. In order: engine figures (pure CPU, no service), the
 * service end to end at N/10 and N questions (scaling), then the check
 * lookup on a large bank. Sizes from the environment:
 *   BENCH_GROUP_SIZE  one-group dedup and cached re-run   (default 50000)
 *   BENCH_CHECK_BANK  bank for the check lookup            (default 1000000; 0 skips)
 *   BENCH_SERVICE_N   questions imported into the service  (default 1000000; 0 skips)
 */
import { runCheckBench } from './check.ts';
import { loadCorpus } from './corpus.ts';
import { runEngineBench } from './engine.ts';
import type { ServiceFigures } from './service.ts';

const log = (line: string) => console.log(line);
const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const corpus = loadCorpus();
if (corpus.source === 'synthetic') log('note: ../shared/data/gaokao-bench is absent; using synthetic texts');

runEngineBench(corpus, log, { groupSize: size('BENCH_GROUP_SIZE', 50_000) });

/** The service in a process of its own, so its RSS is not this one's. */
async function serviceBench(questions: number): Promise<ServiceFigures> {
  log(`service, ${questions} questions:`);
  const child = Bun.spawn([process.execPath, new URL('./service.ts', import.meta.url).pathname, String(questions)], { stdout: 'pipe', stderr: 'inherit' });
  const lines = (await new Response(child.stdout).text()).trimEnd().split('\n');
  if ((await child.exited) !== 0) throw new Error(`service bench for ${questions} failed`);
  for (const line of lines.slice(0, -1)) log(line);
  return JSON.parse(lines[lines.length - 1]!) as ServiceFigures;
}

const n = size('BENCH_SERVICE_N', 1_000_000);
if (n > 0) {
  const small = Math.max(1000, Math.round(n / 10));
  const a = await serviceBench(small);
  const b = await serviceBench(n);
  log(`scaling x${(n / small).toFixed(0)} data: import x${(b.importMs / a.importMs).toFixed(1)} time, task x${(b.taskMs / a.taskMs).toFixed(1)} time`);
}

// Last: it leaves a million prints and their index in this process.
const bank = size('BENCH_CHECK_BANK', 1_000_000);
if (bank > 0) await runCheckBench(corpus, log, bank);
process.exit(0);

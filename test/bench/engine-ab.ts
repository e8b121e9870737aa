/**
 * The engine against an earlier version of itself, in one process, alternating rounds: on a
 * shared, busy machine two separate runs differ by more than the change being measured.
 *
 *   git archive 27590ed | (mkdir -p /tmp/base && tar -x -C /tmp/base)
 *   ln -s "$PWD/node_modules" /tmp/base/node_modules; ln -sfn "$PWD/../../shared" /tmp/shared
 *   BENCH_AB_BASE=/tmp/base bun test/bench/engine-ab.ts
 *
 * (the /tmp/shared link lets the earlier tree's corpus find ../shared/data). Prints: full
 * prints/s on the 2,811 GAOKAO texts and on 5,000 texts of the scaled bench bank (70 % ciphers),
 * CPU time, median of BENCH_AB_ROUNDS (15); then a cold group of BENCH_AB_GROUP (20,000) questions.
 */
import { loadCorpus, scaleCorpus } from './corpus.ts';
import { dedupGroup as headGroup } from '../../workers/dedup/engine.ts';
import { fingerprintQuestion as headPrint } from '../../workers/dedup/prints.ts';
import { packTexts } from '../../workers/packed-texts.ts';

const baseDir = process.env.BENCH_AB_BASE;
if (!baseDir) throw new Error('BENCH_AB_BASE: the directory of the earlier tree (see the comment at the top)');
const { fingerprintQuestion: basePrint } = await import(`${baseDir}/workers/dedup/prints.ts`);
const { dedupGroup: baseGroup } = await import(`${baseDir}/workers/dedup/engine.ts`);
const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 15);
const groupSize = Number(process.env.BENCH_AB_GROUP ?? 20_000);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const out = new Uint32Array(16);

function printRates(name: string, texts: string[]) {
  const contenders = { base: (s: string) => basePrint(s, null, out, 0), head: (s: string) => headPrint(s, null, out, 0) };
  for (const print of Object.values(contenders)) for (const t of texts) print(t);
  const seen = { base: [] as number[], head: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    for (const [k, print] of Object.entries(contenders) as [keyof typeof seen, (s: string) => unknown][]) {
      const t0 = cpuMs();
      for (const t of texts) print(t);
      seen[k].push(texts.length / ((cpuMs() - t0) / 1000));
    }
  }
  const [b, h] = [median(seen.base), median(seen.head)];
  console.log(`full prints/s, ${name}: base ${b.toFixed(0)}, head ${h.toFixed(0)}, head/base ${(h / b).toFixed(3)}`);
}

const corpus = loadCorpus();
printRates(`${corpus.base.length} GAOKAO texts`, corpus.base.map((q) => q.content));
const scaled = scaleCorpus(corpus.base, Math.max(groupSize, 8000)).map((q) => q.content);
printRates('5000 bench-bank texts', scaled.slice(-5000));

const job = () => ({
  ids: Float64Array.from({ length: groupSize }, (_, i) => i + 1),
  contents: packTexts(scaled.slice(0, groupSize)),
  options: packTexts(new Array<string | null>(groupSize).fill(null)),
  opts: { maxDistance: 3, minSimilarity: 0.8 },
});
const ms = { base: [] as number[], head: [] as number[] };
const clusters = { base: 0, head: 0 };
for (let r = 0; r < 5; r++) {
  for (const [k, run] of [['base', baseGroup], ['head', headGroup]] as const) {
    const j = job();
    const t0 = cpuMs();
    clusters[k] = run(j).clusters.length;
    ms[k].push(cpuMs() - t0);
  }
}
console.log(`cold group of ${groupSize}, CPU ms: base ${median(ms.base).toFixed(0)} (${clusters.base} clusters), head ${median(ms.head).toFixed(0)} (${clusters.head} clusters), head/base ${(median(ms.head) / median(ms.base)).toFixed(3)}`);

/**
 * Sweeps max_distance and min_similarity over the evaluation set built from
 * the tuning kinds only (from the shipped GAOKAO fixture, as the eval test); the
 * held-out kinds are never looked at here.
 *
 *   bun test/bench/tune.ts
 */
import { buildEvalSet, loadGaokao } from '../engine/evalset.ts';
import { score } from '../engine/score.ts';
import { TUNING_KINDS } from '../engine/variants.ts';

const rows = loadGaokao();
if (rows === null) {
  console.log('tune: test/fixtures/gaokao/questions.ndjson is missing; nothing to tune on');
  process.exit(0);
}
const set = buildEvalSet(rows, { kinds: TUNING_KINDS });
console.log(`tuning set: ${set.questions.length} questions, ${set.positives.length} positive and ${set.hardNegatives.length} hard-negative pairs (kinds: ${TUNING_KINDS.join(', ')})`);
console.log('max_d  min_sim  precision  recall  hard-neg-merged  worst-kind-recall');
const distances = (process.env.DISTANCES ?? '0,3,6,10').split(',').map(Number);
const sims = (process.env.SIMS ?? '0.5,0.6,0.7,0.75,0.8,0.85,0.9,0.95').split(',').map(Number);
for (const maxDistance of distances) {
  for (const minSimilarity of sims) {
    const s = score(set, { maxDistance, minSimilarity });
    const worst = Object.entries(s.recallByKind).sort((a, b) => a[1] - b[1])[0];
    console.log(
      `${String(maxDistance).padStart(5)}  ${minSimilarity.toFixed(2).padStart(7)}  ${s.precision.toFixed(4).padStart(9)}  ${s.recall.toFixed(4).padStart(6)}  ${s.hardNegativesMerged.toFixed(4).padStart(15)}  ${worst?.[0]} ${worst?.[1].toFixed(3)}`,
    );
  }
}

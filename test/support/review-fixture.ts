/**
 * A bank for review tests: the fixture's mathematics questions, plus for a dozen of its formula
 * questions with options some look-alikes that are the same question (renumbered, other LaTeX
 * spellings, options given apart as JSON) and one that is not (a number changed).
 */
import { readFileSync } from 'node:fs';
import { changeNumber, latexSynonyms, parseOptions, renumber } from '../engine/variants.ts';

const FIXTURE = new URL('../fixtures/gaokao/questions.ndjson', import.meta.url);

/** mulberry32: a small seeded generator, so the bank is the same on every run. */
function seeded(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Row = Record<string, unknown> & { external_id: string; content: string; type_name: string; subject_name: string };

export function reviewBank(seeds = 12): Row[] {
  const rows = readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Row)
    .filter((row) => row.subject_name === '数学');
  const rand = seeded(13);
  const chosen = rows.filter((row) => row.type_name === '单选题' && row.content.includes('$') && parseOptions(row.content) !== null).slice(0, seeds);
  const extra: Row[] = [];
  for (const seed of chosen) {
    const parsed = parseOptions(seed.content)!;
    const copy = (suffix: string, content: string, options?: Record<string, string>) =>
      extra.push({ ...seed, external_id: `${seed.external_id}~${suffix}`, content, ...(options ? { options } : {}) });
    copy('renumber', renumber(seed.content, rand));
    copy('latex', latexSynonyms(seed.content));
    copy('options', parsed.stem.trim(), Object.fromEntries(parsed.labels.map((label, k) => [label, parsed.options[k]!])));
    const changed = changeNumber(seed.content, rand);
    if (changed !== null) copy('number', changed);
  }
  return [...rows, ...extra];
}

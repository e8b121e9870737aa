/**
 * A labelled evaluation set built from the GAOKAO-Bench questions.
 *
 * Labels never come from the engine under test. Natural duplicates are
 * labelled by an independent rule on the raw text (character-bigram
 * Jaccard of the unnormalized content plus the same worked solution or the
 * same answer and digits); ambiguous natural pairs are left out of the
 * scoring. Generated variants of "clean" seed questions (no other question
 * near them) are labelled by construction.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeVariants, templateQuestion, type VariantKind } from './variants.ts';
import { seededRandom } from '../../src/sample/generate.ts';

/** The 1,194-question subset shipped with the repository: what the tests read. */
export const GAOKAO_FIXTURE_PATH = fileURLToPath(new URL('../fixtures/gaokao/questions.ndjson', import.meta.url));

export interface RawQuestion {
  type_name: string;
  subject_name: string;
  channel_code: string;
  content: string;
  answer: unknown;
  analysis: string | null;
}

export interface EvalQuestion {
  id: number;
  group: string;
  content: string;
  options: string | null;
  /** Index of the original question this one came from (itself for an original). */
  origin: number;
  kind: VariantKind | 'original';
}

export interface LabelledPair {
  a: number;
  b: number;
  kind: string;
}

export interface EvalSet {
  questions: EvalQuestion[];
  /** Pairs that must end up in one cluster. */
  positives: LabelledPair[];
  /** Pairs that must not: generated look-alikes that are different questions. */
  hardNegatives: LabelledPair[];
  /** Natural pairs too ambiguous to label either way; ignored when scoring. */
  ignored: Set<string>;
  /** Ground-truth class of each question (index = id - 1). */
  labels: Int32Array;
}

export function loadGaokao(path = GAOKAO_FIXTURE_PATH): RawQuestion[] | null {
  if (!existsSync(path)) return null;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as RawQuestion);
}

/** Distinct character bigrams of the text with all whitespace dropped. */
function rawBigrams(s: string): Uint32Array {
  const t = s.replace(/\s+/g, '');
  const out = new Uint32Array(Math.max(0, t.length - 1));
  for (let i = 0; i + 1 < t.length; i++) out[i] = (t.charCodeAt(i) * 65536 + t.charCodeAt(i + 1)) >>> 0;
  out.sort();
  let u = 0;
  for (let i = 0; i < out.length; i++) if (u === 0 || out[u - 1] !== out[i]) out[u++] = out[i]!;
  return out.slice(0, u);
}

function setJaccard(a: Uint32Array, b: Uint32Array): number {
  let i = 0, j = 0, inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { inter++; i++; j++; } else if (a[i]! < b[j]!) i++; else j++;
  }
  const union = a.length + b.length - inter;
  return union === 0 ? 1 : inter / union;
}

const squash = (s: string | null) => (s ?? '').replace(/\s+/g, '');
// Digits of the stem, without the question number and the score note.
const digitsOf = (s: string) => (s.replace(/^\s*\d+\s*[.．、]/, '').replace(/[(（]\s*\d+\s*分\s*[)）]/g, '').match(/\d+/g) ?? []).join(',');

const pairKey = (a: number, b: number) => (a < b ? `${a},${b}` : `${b},${a}`);

/** Deterministic PRNG (the sample bank's mulberry32) so the set is the same on every run. */
export const prng = seededRandom;

export interface BuildOptions {
  /** At most this many clean seeds get generated variants. */
  seeds?: number;
  seed?: number;
  /** Only these variant kinds are generated (all by default). */
  kinds?: readonly VariantKind[];
}

export function buildEvalSet(rows: RawQuestion[], opts: BuildOptions = {}): EvalSet {
  const rand = prng(opts.seed ?? 20240607);
  const groupOf = (r: RawQuestion) => `${r.type_name}|${r.subject_name}`;
  const bigrams = rows.map((r) => rawBigrams(r.content));
  const byGroup = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const g = groupOf(r);
    const list = byGroup.get(g);
    if (list === undefined) byGroup.set(g, [i]);
    else list.push(i);
  });

  const parent = Int32Array.from({ length: rows.length }, (_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
  const naturalPos: LabelledPair[] = [];
  const naturalNeg: LabelledPair[] = [];
  const ignored = new Set<string>();
  const hasNeighbour = new Uint8Array(rows.length);
  for (const members of byGroup.values()) {
    for (let x = 0; x < members.length; x++) {
      for (let y = x + 1; y < members.length; y++) {
        const a = members[x]!, b = members[y]!;
        const ba = bigrams[a]!, bb = bigrams[b]!;
        if (Math.min(ba.length, bb.length) < 0.5 * Math.max(ba.length, bb.length)) continue;
        const j = setJaccard(ba, bb);
        if (j < 0.5) continue;
        hasNeighbour[a] = 1;
        hasNeighbour[b] = 1;
        const ra = rows[a]!, rb = rows[b]!;
        const sameSolution = squash(ra.analysis).length > 20 && squash(ra.analysis) === squash(rb.analysis);
        const sameAnswer = JSON.stringify(ra.answer) === JSON.stringify(rb.answer);
        if ((sameSolution && j >= 0.7) || (j >= 0.9 && sameAnswer && digitsOf(ra.content) === digitsOf(rb.content))) {
          naturalPos.push({ a: a + 1, b: b + 1, kind: 'natural' });
          parent[find(b)] = find(a);
        } else if (j < 0.85 && squash(ra.analysis).length > 20 && squash(rb.analysis).length > 20 &&
          setJaccard(rawBigrams(ra.analysis ?? ''), rawBigrams(rb.analysis ?? '')) < 0.3) {
          // Look-alike stems with unrelated worked solutions: different questions from one template.
          naturalNeg.push({ a: a + 1, b: b + 1, kind: 'natural-near' });
        } else {
          ignored.add(pairKey(a + 1, b + 1));
        }
      }
    }
  }

  const questions: EvalQuestion[] = rows.map((r, i) => ({
    id: i + 1, group: groupOf(r), content: r.content, options: null, origin: i, kind: 'original',
  }));
  const labels: number[] = rows.map((_, i) => find(i));
  const positives: LabelledPair[] = [...naturalPos];
  const hardNegatives: LabelledPair[] = opts.kinds === undefined || opts.kinds.includes('natural-near') ? [...naturalNeg] : [];

  const clean = rows.map((_, i) => i).filter((i) => hasNeighbour[i] === 0 && rows[i]!.content.trim().length >= 8);
  // Fisher-Yates on a copy, then the first `seeds` of them.
  for (let i = clean.length - 1; i > 0; i--) {
    const k = Math.floor(rand() * (i + 1));
    [clean[i], clean[k]] = [clean[k]!, clean[i]!];
  }
  const seeds = clean.slice(0, opts.seeds ?? 700).sort((x, y) => x - y);
  const seedsByGroup = new Map<string, number[]>();
  for (const s of seeds) {
    const g = groupOf(rows[s]!);
    const list = seedsByGroup.get(g);
    if (list === undefined) seedsByGroup.set(g, [s]);
    else list.push(s);
  }

  let nextLabel = rows.length;
  const add = (origin: number, kind: VariantKind, content: string, options: string | null, label: number): number => {
    const id = questions.length + 1;
    questions.push({ id, group: groupOf(rows[origin]!), content, options, origin, kind });
    labels.push(label);
    return id;
  };

  const lastTemplate = new Map<string, number>();
  const usedOptions = new Map<string, Set<string>>();
  for (const s of seeds) {
    const group = groupOf(rows[s]!);
    const peers = seedsByGroup.get(group)!.filter((p) => p !== s).map((p) => rows[p]!.content);
    const family = [s + 1];
    for (const v of makeVariants(rows[s]!.content, peers, rand)) {
      if (opts.kinds !== undefined && !opts.kinds.includes(v.kind)) continue;
      if (v.duplicate) {
        const id = add(s, v.kind, v.content, v.options, labels[s]!);
        positives.push({ a: s + 1, b: id, kind: v.kind });
        family.push(id);
      } else {
        const id = add(s, v.kind, v.content, v.options, nextLabel++);
        hardNegatives.push({ a: s + 1, b: id, kind: v.kind });
      }
    }
    // Same short template stem, different options: each pairs with the group's previous one.
    const template = templateQuestion(rows[s]!.content, group);
    const used = usedOptions.get(group) ?? new Set<string>();
    usedOptions.set(group, used);
    // Options shared with an earlier template question (①② ①③ …, or bare labels) would make it the same question.
    const options = template?.split('\n').slice(1).map((o) => o.replace(/^[A-D]\.\s*/, '').replace(/\s+/g, '')) ?? [];
    if (template !== null && (opts.kinds?.includes('template') ?? true) && options.every((o) => o.length >= 2 && !used.has(o))) {
      for (const o of options) used.add(o);
      const id = add(s, 'template', template, null, nextLabel++);
      // Its own seed under a generic stem, same options: arguably the same question, so not scored.
      for (const f of family) ignored.add(pairKey(f, id));
      const previous = lastTemplate.get(group);
      if (previous !== undefined) hardNegatives.push({ a: previous, b: id, kind: 'template' });
      lastTemplate.set(group, id);
    }
  }
  return { questions, positives, hardNegatives, ignored, labels: Int32Array.from(labels) };
}

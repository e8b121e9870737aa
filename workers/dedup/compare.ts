/** The verify stage on two texts: shingle Jaccard and option agreement. */
import { extract, shingleCopy } from './features.ts';
import { normalize, type Normalized } from './normalize.ts';
import { jaccard, jaccardUpperBound, optionsAgree } from './verify.ts';

export interface TextData {
  shingles: Uint32Array;
  options: string[];
}

export function textData(content: string, options: string | null): TextData {
  return textDataOf(normalize(content, options));
}

/** TextData of a question already normalized. */
export function textDataOf(norm: Normalized): TextData {
  return {
    shingles: shingleCopy(extract(norm.text)),
    options: norm.options === '' ? [] : norm.options.split('\n').filter((o) => o !== ''),
  };
}

/**
 * The pair's Jaccard similarity when it is a duplicate at minSimilarity,
 * else null. Formula agreement is checked on prints, before this.
 */
export function duplicateSimilarity(a: TextData, b: TextData, minSimilarity: number): number | null {
  if (jaccardUpperBound(a.shingles.length, b.shingles.length) < minSimilarity) return null;
  const j = jaccard(a.shingles, b.shingles);
  return j >= minSimilarity && optionsAgree(a.options, b.options) ? j : null;
}

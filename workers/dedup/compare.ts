/** The verify stage on two texts: shingle Jaccard, key-word and option agreement. */
import { extract, shingleCopy } from './features.ts';
import { KeyWords } from './key-words.ts';
import { normalize, type Normalized } from './normalize.ts';
import { CHECK_KEY_WORDS, CHECK_OPTIONS } from './reason.ts';
import { jaccard, jaccardUpperBound, optionsAgree } from './verify.ts';

/** The key-word lists' matcher: an immutable table, built once per thread on first use. */
let keyWordTable: KeyWords | null = null;
export const keyWordMatcher = (): KeyWords => (keyWordTable ??= new KeyWords());

export interface TextData {
  shingles: Uint32Array;
  options: string[];
  /** Key-word ids, sorted (key-words.ts). */
  keyWords: Int32Array;
}

export function textData(content: string, options: string | null): TextData {
  return textDataOf(normalize(content, options));
}

/** TextData of a question already normalized. */
export function textDataOf(norm: Normalized): TextData {
  return {
    shingles: shingleCopy(extract(norm.text)),
    options: norm.options === '' ? [] : norm.options.split('\n').filter((o) => o !== ''),
    keyWords: keyWordMatcher().ids(norm.text),
  };
}

/** Whether the two questions' key words agree (key-words.ts). */
export function keyWordsAgree(a: TextData, b: TextData): boolean {
  return keyWordMatcher().agree(a.keyWords, b.keyWords);
}

/**
 * The pair's Jaccard similarity when it is a duplicate at minSimilarity,
 * else null. Formula agreement is checked on prints, before this.
 */
export function duplicateSimilarity(a: TextData, b: TextData, minSimilarity: number): number | null {
  if (jaccardUpperBound(a.shingles.length, b.shingles.length) < minSimilarity) return null;
  const j = jaccard(a.shingles, b.shingles);
  return j >= minSimilarity && keyWordsAgree(a, b) && optionsAgree(a.options, b.options) ? j : null;
}

/**
 * The checks two texts pass (reason.ts): key_words when either has key words and they agree,
 * options when both have options and they match up. A member's reason names only checks that
 * had something to compare.
 */
export function textChecks(a: TextData, b: TextData): number {
  let mask = 0;
  if ((a.keyWords.length > 0 || b.keyWords.length > 0) && keyWordsAgree(a, b)) mask |= CHECK_KEY_WORDS;
  if (a.options.length > 0 && b.options.length > 0 && optionsAgree(a.options, b.options)) mask |= CHECK_OPTIONS;
  return mask;
}

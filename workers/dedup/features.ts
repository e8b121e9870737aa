/**
 * Tokens and shingles of a normalized question, computed on char codes.
 *
 * A token is one CJK character, one Latin word, one number, one LaTeX
 * command or one operator symbol. Shingles are overlapping token 2- and
 * 3-grams: character n-grams for Chinese, word n-grams for English, and
 * both mixed in formulas. Hashes only, so no substring is ever built.
 */
import { combine, fmix32 } from './hash.ts';

const T_CJK = 0x1000000;
const T_WORD = 0x2000000;
const T_NUM = 0x3000000;
const T_CMD = 0x4000000;
const T_SYM = 0x5000000;
const TRIGRAM_SALT = 0x5bd1e995;
const FORMULA_SEED = 0x2545f491;

function isCjk(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x3040 && c <= 0x30ff) ||
    (c >= 0xf900 && c <= 0xfaff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xd800 && c <= 0xdfff);
}
function isLower(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** Punctuation that changes between editions of the same question without changing it. */
function isSkipped(c: number): boolean {
  return c <= 32 || c === 44 || c === 46 || c === 59 || c === 58 || c === 63 || c === 33 || c === 34 ||
    c === 96 || c === 0xa0 || c === 0x3002 || c === 0xff0c;
}
/** Symbols whose change changes the question, e.g. `+` vs `-`, `(0,2)` vs `[0,2]`. */
function isOperator(c: number): boolean {
  return c === 43 || c === 45 || c === 42 || c === 47 || c === 61 || c === 60 || c === 62 || c === 94 ||
    c === 124 || c === 40 || c === 41 || c === 91 || c === 93 || c === 37;
}

let shingleBuf = new Uint32Array(2048);

/** The result of the last extract(): valid until the next call. */
export interface Extracted {
  /** Sorted, distinct shingle hashes in shingles[0..count). */
  shingles: Uint32Array;
  count: number;
  /** Hash of the ordered numbers, commands and operators: equal keys = same formulas. */
  formulaKey: number;
  /** Whether the text has a number; an operator or LaTeX command (what the key compared). */
  hasNumbers: boolean;
  hasFormulas: boolean;
}

const result: Extracted = { shingles: shingleBuf, count: 0, formulaKey: 0, hasNumbers: false, hasFormulas: false };

/**
 * Writes the text's shingle hashes, unsorted and with repeats, to
 * result.shingles[0..n) and returns n; sets result.formulaKey.
 */
export function shingle(text: string): number {
  const len = text.length;
  // At most two shingles per character: sized once, before the loop.
  if (shingleBuf.length < 2 * len + 4) {
    shingleBuf = new Uint32Array(4 * len + 16);
    result.shingles = shingleBuf;
  }
  const buf = shingleBuf;
  let m = 0;
  let n = 0;
  let prev = 0;
  let prevBigram = 0;
  let first = 0;
  let formula = FORMULA_SEED;
  let numbers = 0;
  let formulas = 0;
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    let t: number;
    // CJK first: in Chinese text it is most characters, and one range test decides it.
    if (c >= 0x3040 && isCjk(c)) {
      // An odd multiplier is a bijection; combine() below does the mixing.
      t = Math.imul(c, 0x9e3779b1) ^ T_CJK;
      i++;
    } else if (isSkipped(c)) {
      i++;
      continue;
    } else if (isLower(c)) {
      let h = 0x811c9dc5;
      while (i < len && isLower(text.charCodeAt(i))) h = Math.imul(h ^ text.charCodeAt(i++), 0x01000193);
      t = fmix32(h ^ T_WORD);
    } else if (isDigit(c)) {
      let h = 0x811c9dc5;
      while (i < len) {
        const d = text.charCodeAt(i);
        // A decimal point belongs to the number only between two digits.
        if (!(isDigit(d) || (d === 46 && i + 1 < len && isDigit(text.charCodeAt(i + 1))))) break;
        h = Math.imul(h ^ d, 0x01000193);
        i++;
      }
      t = fmix32(h ^ T_NUM);
      formula = combine(formula, t);
      numbers++;
    } else if (c === 92 /* \ */) {
      let h = 0x811c9dc5;
      i++;
      if (i < len && isLower(text.charCodeAt(i))) {
        while (i < len && isLower(text.charCodeAt(i))) h = Math.imul(h ^ text.charCodeAt(i++), 0x01000193);
      } else if (i < len) {
        h = Math.imul(h ^ text.charCodeAt(i++), 0x01000193);
      }
      t = fmix32(h ^ T_CMD);
      formula = combine(formula, t);
      formulas++;
    } else {
      t = fmix32(c ^ T_SYM);
      if (isOperator(c)) {
        formula = combine(formula, t);
        formulas++;
      }
      i++;
    }
    // Shingles as tokens arrive: the trigram ending here, then the bigram.
    if (m >= 2) buf[n++] = combine(prevBigram ^ TRIGRAM_SALT, t);
    if (m >= 1) {
      prevBigram = combine(prev, t);
      buf[n++] = prevBigram;
    } else {
      first = t;
    }
    prev = t;
    m++;
  }
  // Too few tokens for n-grams: the tokens themselves are all there is.
  if (m === 1) buf[n++] = first;
  if (m === 2) {
    buf[n++] = first;
    buf[n++] = prev;
  }
  result.formulaKey = formula >>> 0;
  result.hasNumbers = numbers > 0;
  result.hasFormulas = formulas > 0;
  return n;
}

/** The text's distinct shingles, sorted: what verification compares. */
export function extract(text: string): Extracted {
  const n = shingle(text);
  shingleBuf.subarray(0, n).sort();
  let u = 0;
  for (let k = 0; k < n; k++) {
    const v = shingleBuf[k]!;
    if (u === 0 || shingleBuf[u - 1] !== v) shingleBuf[u++] = v;
  }
  result.count = u;
  return result;
}

/** Copies the current shingle set out of the shared scratch buffer. */
export function shingleCopy(e: Extracted): Uint32Array {
  return e.shingles.slice(0, e.count);
}

/** The scratch buffer shingle() wrote to; valid until the next call. */
export function shingleBuffer(): Uint32Array {
  return shingleBuf;
}

/** What the last shingle() or extract() call found to compare: numbers, operators or commands. */
export function formulaContent(): { hasNumbers: boolean; hasFormulas: boolean } {
  return result;
}

/** The formula key of the last shingle() or extract() call. */
export function formulaKey(): number {
  return result.formulaKey;
}

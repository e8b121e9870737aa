/**
 * A question's print: everything later stages need from its text, in
 * FINGERPRINT_WORDS uint32 words (layout in print.ts), cacheable per
 * question because it depends on the content alone.
 */
import { formulaContent, formulaKey, shingle, shingleBuffer } from './features.ts';
import { combine, hashString64 } from './hash.ts';
import { normalize, type Normalized } from './normalize.ts';
import { minhashOf } from './minhash.ts';
import { COUNT_MASK, F_AGREE, F_CONTENT_A, F_CONTENT_B, F_COUNT, F_EXACT_A, F_MINHASH, F_SIM_HI, F_SKETCH, FP_WORDS, P_FORMULAS, P_NUMBERS } from './print.ts';
import { sketchKeys } from './sketch.ts';
import { simhash64 } from './simhash.ts';

/**
 * Bumped whenever normalization or hashing changes, so stale cached prints never match.
 * 4: math notations, traditional Chinese, prefixes and option labels normalized; key words
 * verified; numbers/formulas flags in F_COUNT.
 */
export const ALGORITHM_VERSION = 4;

const SEED_A = 0x3c6ef372 ^ ALGORITHM_VERSION;
const SEED_B = 0xa54ff53a ^ Math.imul(ALGORITHM_VERSION, 0x9e3779b1);
const scratch = new Uint32Array(4);

/** The cache key: a hash of exactly what the runner sent (content and options JSON). */
function contentHash(content: string, options: string | null, out: Uint32Array, at: number): void {
  hashString64(content, SEED_A, out, at);
  if (options !== null) {
    hashString64(options, SEED_B, scratch, 0);
    out[at] = combine(out[at]!, scratch[0]!);
    out[at + 1] = combine(out[at + 1]!, scratch[1]!);
  }
}

/** Computes one question's print into out[at..at+FP_WORDS); returns its normalized form. */
export function fingerprintQuestion(content: string, options: string | null, out: Uint32Array, at: number): Normalized {
  const normalized = normalize(content, options);
  const { text } = normalized;
  // SimHash and sketch need no sorted set: the unsorted shingles (with repeats) will do.
  const n = shingle(text);
  const shingles = shingleBuffer();
  contentHash(content, options, out, at + F_CONTENT_A);
  hashString64(text, SEED_A, out, at + F_EXACT_A);
  simhash64(shingles, n, out, at + F_SIM_HI);
  out[at + F_AGREE] = formulaKey();
  const { hasNumbers, hasFormulas } = formulaContent();
  out[at + F_COUNT] = Math.min(n, COUNT_MASK) | (hasNumbers ? P_NUMBERS : 0) | (hasFormulas ? P_FORMULAS : 0);
  sketchKeys(shingles, n, out, at + F_SKETCH);
  minhashOf(shingles, n, out, at + F_MINHASH);
  return normalized;
}

function cachedPrintFits(prints: Uint32Array, at: number, content: string, options: string | null): boolean {
  contentHash(content, options, scratch, 2);
  return prints[at + F_CONTENT_A] === scratch[2] && prints[at + F_CONTENT_B] === scratch[3];
}

function hasPrint(prints: Uint32Array, at: number): boolean {
  return prints.length >= at + FP_WORDS && (prints[at + F_CONTENT_A] !== 0 || prints[at + F_CONTENT_B] !== 0);
}

export interface PrintSet {
  prints: Uint32Array;
  /** 1 where the row was computed in this run. */
  fresh: Uint8Array;
  /** Rows with neither content nor a cached print: the runner must send their content. */
  missing: number[];
}

/** Texts read between two calls of computePrints' collectGarbage. */
const GARBAGE_ROWS = 8192;

/**
 * Every row's print: the cached one when it was made from this content (or
 * when the runner left the content out, vouching for the cached row), else
 * computed now.
 */
export function computePrints(
  n: number,
  contentOf: (i: number) => string | null,
  optionsOf: (i: number) => string | null,
  cached: Uint32Array | null,
  /** Called every GARBAGE_ROWS texts read: each leaves its decoded and normalized text behind as garbage. */
  collectGarbage?: () => void,
  /** 1 where the cached print is known to fit the text (GroupJob.vouched): it is not checked. */
  vouched: Uint8Array | null = null,
  /** Told of each row printed now, with its normalized form. */
  onPrinted?: (row: number, normalized: Normalized) => void,
): PrintSet {
  // The cached prints copied at once (a re-run takes nearly all of them); a row not taken is computed or cleared.
  const whole = cached !== null && cached.length === n * FP_WORDS;
  const prints = whole ? cached.slice() : new Uint32Array(n * FP_WORDS);
  const take = (at: number) => {
    if (!whole) prints.set(cached!.subarray(at, at + FP_WORDS), at);
  };
  const fresh = new Uint8Array(n);
  const missing: number[] = [];
  let read = 0;
  for (let i = 0; i < n; i++) {
    const at = i * FP_WORDS;
    if (vouched !== null && vouched[i] === 1 && cached !== null && hasPrint(cached, at)) {
      take(at);
      continue;
    }
    if (collectGarbage !== undefined && ++read % GARBAGE_ROWS === 0) collectGarbage();
    const content = contentOf(i);
    const opts = optionsOf(i);
    const usable = cached !== null && hasPrint(cached, at);
    if (usable && (content === null || cachedPrintFits(cached, at, content, opts))) {
      take(at);
    } else if (content === null) {
      prints.fill(0, at, at + FP_WORDS);
      missing.push(i);
    } else {
      const normalized = fingerprintQuestion(content, opts, prints, at);
      onPrinted?.(i, normalized);
      fresh[i] = 1;
    }
  }
  return { prints, fresh, missing };
}

/**
 * Layout of one question's cached print: FINGERPRINT_WORDS uint32 words.
 * The runner stores a row as an opaque 96-byte blob; only the workers and the check index read it.
 */
import { FINGERPRINT_WORDS } from '../protocol.ts';

export const FP_WORDS = FINGERPRINT_WORDS;
/** Hash of the raw content + options JSON: the cache key that proves the row is current. */
export const F_CONTENT_A = 0;
export const F_CONTENT_B = F_CONTENT_A + 1;
/** Hash of the normalized text: the exact stage. */
export const F_EXACT_A = 2;
export const F_EXACT_B = F_EXACT_A + 1;
/** The 64-bit SimHash. */
export const F_SIM_HI = 4;
export const F_SIM_LO = 5;
/** Ordered numbers, operators and LaTeX commands: must agree for a near-duplicate. */
export const F_AGREE = 6;
/**
 * Shingle positions (repeats included) in the low 24 bits (COUNT_MASK): decides the short-text
 * switch. The high bits say what the agreement key compared (P_*): a member's reason names
 * `numbers` or `formulas` only when the canonical question has some.
 */
export const F_COUNT = 7;
export const COUNT_MASK = 0xffffff;
export const P_NUMBERS = 1 << 24;
export const P_FORMULAS = 1 << 25;
/** SKETCH_KEYS smallest shingle hashes: candidate keys for texts too short for bands. */
export const F_SKETCH = 8;
/** MINHASH_WORDS words of 4-bit MinHash codes (minhash.ts): how near two texts are, before reading either. */
export const F_MINHASH = 16;

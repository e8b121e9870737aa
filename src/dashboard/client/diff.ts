/** A piece of text and whether it differs from the text it was compared with. */
export interface Segment {
  text: string;
  changed: boolean;
}

/** Latin words and numbers stay whole; every other character (CJK, punctuation) is its own token. */
export function tokenize(text: string): string[] {
  return text.match(/[A-Za-z0-9_.]+|\s+|[^A-Za-z0-9_.\s]/gu) ?? [];
}

/** Beyond this many LCS cells the diff would stall a phone; the texts are shown unmarked. */
const MAX_CELLS = 2_000_000;

/**
 * Token-level LCS diff of two texts: for each side, the tokens the other side lacks are
 * `changed`. Whitespace is never marked, since a highlighted space shows nothing.
 * `split` may keep larger units whole (the review screen keeps each formula one token), and
 * `key` says what of a token counts (a formula's spacing does not show, so it does not differ).
 */
export function diffTexts(
  left: string,
  right: string,
  split: (text: string) => string[] = tokenize,
  key: (token: string) => string = (token) => token,
): { left: Segment[]; right: Segment[] } {
  const a = split(left);
  const b = split(right);
  const ka = a.map(key);
  const kb = b.map(key);
  const plain = (tokens: string[]) => merge(tokens.map((text) => ({ text, changed: false })));
  if (a.length * b.length > MAX_CELLS) return { left: plain(a), right: plain(b) };

  const width = b.length + 1;
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i * width + j] =
        ka[i] === kb[j] ? lengths[(i + 1) * width + j + 1]! + 1 : Math.max(lengths[(i + 1) * width + j]!, lengths[i * width + j + 1]!);
    }
  }
  const inA = new Array<boolean>(a.length).fill(false);
  const inB = new Array<boolean>(b.length).fill(false);
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (ka[i] === kb[j]) {
      inA[i++] = true;
      inB[j++] = true;
    } else if (lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!) i++;
    else j++;
  }
  const mark = (tokens: string[], kept: boolean[]) =>
    merge(tokens.map((text, k) => ({ text, changed: !kept[k] && text.trim() !== '' })));
  return { left: mark(a, inA), right: mark(b, inB) };
}

/** Joins neighbouring tokens of the same kind so the page gets a few spans, not one per character. */
function merge(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const segment of segments) {
    const last = out[out.length - 1];
    if (last && last.changed === segment.changed) last.text += segment.text;
    else out.push({ ...segment });
  }
  return out;
}

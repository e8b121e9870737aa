/**
 * A group's texts as UTF-8 in one buffer, for the trip into the worker. Structured-cloning
 * 150,000 strings of ~1 KB each held the main thread for 0.4-1.2 s and kept three copies
 * alive (main's strings, the clone, the worker's UTF-16 strings); one buffer is transferred
 * instead (moved, no copy), and the worker decodes a text only when it reads it.
 * No I/O imports: both threads use this module.
 */

/**
 * Text i is bytes[ends[i - 1] .. ends[i]) (ends[-1] = 0); an omitted row is an empty text.
 * Packed options (JSON text or null) store null as an empty text: stored options JSON is
 * never empty (optionalTextAt).
 */
export interface PackedTexts {
  bytes: Uint8Array;
  ends: Int32Array;
}

/** Room reserved for one pack's bytes (virtual memory only: pages are touched as texts arrive). */
const MAX_PACK_BYTES = 2 ** 31 - 1;
const INITIAL_PACK_BYTES = 1 << 16;

/**
 * Builds a PackedTexts row by row. The bytes grow in place in a resizable buffer, so a
 * 150 MB group is never copied from a smaller buffer to a larger one on the main thread.
 */
export class TextPacker {
  // Resizable: grows in place, with no copy into a larger buffer. Made at the first byte: a
  // re-run packs many groups' options with none, and reserving one costs ~50 µs.
  private buffer: ArrayBuffer | null = null;
  private view = EMPTY;
  private used = 0;
  private readonly ends: number[] = [];
  private omittedRows: Uint8Array | null = null;
  private static readonly encoder = new TextEncoder();

  get count(): number {
    return this.ends.length;
  }

  /** Appends one text given as UTF-8 bytes (copied: the caller's buffer may be shared or reused). */
  add(utf8: Uint8Array): void {
    this.reserve(utf8.byteLength);
    this.view.set(utf8, this.used);
    this.used += utf8.byteLength;
    this.ends.push(this.used);
  }

  addString(text: string): void {
    this.add(TextPacker.encoder.encode(text));
  }

  /** A value that may be null (options): null is stored as an empty text. */
  addOptional(utf8: Uint8Array | null): void {
    this.add(utf8 ?? EMPTY);
  }

  /** `count` rows (default one) whose text is left out (GroupJob.omitted): empty texts, marked in omitted(). */
  addOmitted(count = 1): void {
    if (count === 0) return;
    const row = this.ends.length;
    this.addEmpty(count);
    if (this.omittedRows === null || this.omittedRows.length < row + count) {
      const grown = new Uint8Array(Math.max(64, 2 * (row + count)));
      if (this.omittedRows !== null) grown.set(this.omittedRows);
      this.omittedRows = grown;
    }
    this.omittedRows.fill(1, row, row + count);
  }

  /** `count` empty texts (null options). */
  addEmpty(count: number): void {
    for (let k = 0; k < count; k++) this.ends.push(this.used);
  }

  /** 1 for every row added with addOmitted, or null when none was. */
  omitted(): Uint8Array | null {
    return this.omittedRows === null ? null : this.omittedRows.slice(0, this.ends.length);
  }

  /** The texts added so far; the packer must not be used afterwards (the buffer is handed over). */
  finish(): PackedTexts {
    const ends = Int32Array.from(this.ends);
    if (this.buffer === null) return { bytes: new Uint8Array(0), ends };
    // Shrunk in place to the bytes used, so the view spans its whole buffer and the buffer can be moved.
    this.buffer.resize(this.used);
    return { bytes: new Uint8Array(this.buffer, 0, this.used), ends };
  }

  private reserve(more: number): void {
    const needed = this.used + more;
    if (needed <= this.view.byteLength) return;
    if (needed > MAX_PACK_BYTES) throw new Error(`texts of one group exceed ${MAX_PACK_BYTES} bytes`);
    if (this.buffer === null) this.buffer = new ArrayBuffer(Math.max(INITIAL_PACK_BYTES, needed), { maxByteLength: MAX_PACK_BYTES });
    else this.buffer.resize(Math.min(MAX_PACK_BYTES, Math.max(needed, 2 * this.buffer.byteLength)));
    this.view = new Uint8Array(this.buffer);
  }
}

const EMPTY = new Uint8Array(0);

/** Packs strings (tests, benches, fixtures), null as an empty text: every row present. */
export function packTexts(texts: readonly (string | null)[]): PackedTexts {
  const packer = new TextPacker();
  for (const text of texts) packer.addString(text ?? '');
  return packer.finish();
}

// ignoreBOM: a leading U+FEFF is part of the stored text (and of its cached print's hash), not a marker to drop.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export const textCount = (texts: PackedTexts): number => texts.ends.length;

/** Text i, decoded now (a new string each call: callers that read a text twice keep it). */
export function textAt(texts: PackedTexts, i: number): string {
  const start = i === 0 ? 0 : texts.ends[i - 1]!;
  return decoder.decode(texts.bytes.subarray(start, texts.ends[i]!));
}

/** Text i of packed options: null where it is empty. */
export function optionalTextAt(texts: PackedTexts, i: number): string | null {
  const start = i === 0 ? 0 : texts.ends[i - 1]!;
  return start === texts.ends[i] ? null : textAt(texts, i);
}

/** Every text, decoded (tests and fixtures; the engine reads texts one at a time). */
export const unpackTexts = (texts: PackedTexts): string[] => Array.from({ length: textCount(texts) }, (_, i) => textAt(texts, i));

/** The buffers to move rather than copy when the texts are posted to another thread. */
export const textBuffers = (texts: PackedTexts): ArrayBuffer[] => [texts.bytes.buffer as ArrayBuffer, texts.ends.buffer as ArrayBuffer];

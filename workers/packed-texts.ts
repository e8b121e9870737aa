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
/** Bytes held in a plain buffer first: most packs stay below (a re-run's, a fetch's), and a resizable one costs ~50 µs to make. */
const SMALL_PACK_BYTES = 1 << 16;

/**
 * Builds a PackedTexts row by row. Past SMALL_PACK_BYTES the bytes grow in place in a resizable
 * buffer, so a 150 MB group is never copied from a smaller buffer to a larger one on the main thread.
 */
export class TextPacker {
  private buffer: ArrayBuffer | null = null;
  /** Whether `buffer` is the resizable one. */
  private growsInPlace = false;
  private view = EMPTY;
  private used = 0;
  private ends = new Int32Array(1024);
  private rows = 0;
  private omittedRows: Uint8Array | null = null;
  private static readonly encoder = new TextEncoder();

  get count(): number {
    return this.rows;
  }

  /** Appends one text given as UTF-8 bytes (copied: the caller's buffer may be shared or reused). */
  add(utf8: Uint8Array): void {
    this.reserve(utf8.byteLength);
    this.view.set(utf8, this.used);
    this.used += utf8.byteLength;
    this.addEmpty(1);
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
    const row = this.rows;
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
    if (this.rows + count > this.ends.length) {
      const grown = new Int32Array(Math.max(2 * this.ends.length, this.rows + count));
      grown.set(this.ends.subarray(0, this.rows));
      this.ends = grown;
    }
    this.ends.fill(this.used, this.rows, this.rows + count);
    this.rows += count;
  }

  /** 1 for every row added with addOmitted, or null when none was. */
  omitted(): Uint8Array | null {
    return this.omittedRows === null ? null : this.omittedRows.slice(0, this.rows);
  }

  /** The texts added so far; the packer must not be used afterwards (the buffer is handed over). */
  finish(): PackedTexts {
    const ends = this.ends.length === this.rows ? this.ends : this.ends.slice(0, this.rows);
    if (this.buffer === null) return { bytes: new Uint8Array(0), ends };
    // A view spanning its whole buffer, so the buffer can be moved: a resizable one is shrunk in place.
    if (!this.growsInPlace) return { bytes: this.view.slice(0, this.used), ends };
    this.buffer.resize(this.used);
    return { bytes: new Uint8Array(this.buffer, 0, this.used), ends };
  }

  private reserve(more: number): void {
    const needed = this.used + more;
    if (needed <= this.view.byteLength) return;
    if (needed > MAX_PACK_BYTES) throw new Error(`texts of one group exceed ${MAX_PACK_BYTES} bytes`);
    let buffer = this.buffer;
    if (buffer === null && needed <= SMALL_PACK_BYTES) buffer = new ArrayBuffer(SMALL_PACK_BYTES);
    else if (buffer === null || !this.growsInPlace) {
      // Past the plain buffer: its few bytes move once into a buffer that grows in place from now on.
      buffer = new ArrayBuffer(Math.max(needed, 2 * SMALL_PACK_BYTES), { maxByteLength: MAX_PACK_BYTES });
      new Uint8Array(buffer).set(this.view.subarray(0, this.used));
      this.growsInPlace = true;
    } else buffer.resize(Math.min(MAX_PACK_BYTES, Math.max(needed, 2 * buffer.byteLength)));
    this.buffer = buffer;
    this.view = new Uint8Array(buffer);
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

import type { StoredQuestion, StoredText } from './stored-question.ts';

/**
 * Stored rows as the parsing thread hands them to the main thread. The long fields (a
 * question's text is ~1 KB) travel as their UTF-8 bytes in one transferred buffer, and SQLite
 * binds them as they are (see `cast(? as text)` in question.repository.ts): cloning them as
 * strings cost the main thread more than a microsecond a row, and binding a string converts it
 * to UTF-8 again. The short fields (keys, group, hash) travel as strings.
 */
export interface PackedRows {
  count: number;
  /** SHORT_FIELDS of each row, row after row. */
  short: (string | null)[];
  /** Byte lengths in `text` of LONG_FIELDS of each row, row after row; -1 stands for null. */
  lengths: Int32Array;
  text: Uint8Array;
}

const SHORT_FIELDS = ['external_id', 'type_name', 'subject_name', 'channel_code', 'row_hash'] as const;
const LONG_FIELDS = ['content', 'options', 'answer', 'analysis'] as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Packs rows whose long fields are strings (as `toStoredFields` makes them). */
export function packRows(rows: StoredQuestion[]): PackedRows {
  const short: (string | null)[] = new Array(rows.length * SHORT_FIELDS.length);
  const lengths = new Int32Array(rows.length * LONG_FIELDS.length);
  let capacity = 0;
  for (const row of rows) for (const field of LONG_FIELDS) capacity += textLength(row[field]) * 3; // UTF-8 needs at most 3 bytes per UTF-16 unit
  const text = new Uint8Array(capacity);
  let s = 0;
  let l = 0;
  let offset = 0;
  for (const row of rows) {
    for (const field of SHORT_FIELDS) short[s++] = row[field] as string | null;
    for (const field of LONG_FIELDS) {
      const value = row[field];
      if (value === null) {
        lengths[l++] = -1;
        continue;
      }
      const written = typeof value === 'string' ? encoder.encodeInto(value, text.subarray(offset)).written : copyBytes(value, text, offset);
      lengths[l++] = written;
      offset += written;
    }
  }
  return { count: rows.length, short, lengths, text: text.subarray(0, offset) };
}

/** The rows again, their long fields as views into the packed bytes (no copy, no decoding). */
export function unpackRows(packed: PackedRows): StoredQuestion[] {
  const rows: StoredQuestion[] = new Array(packed.count);
  const { short, lengths, text } = packed;
  let s = 0;
  let l = 0;
  let offset = 0;
  const next = (): Uint8Array | null => {
    const length = lengths[l++]!;
    if (length < 0) return null;
    offset += length;
    return text.subarray(offset - length, offset);
  };
  for (let i = 0; i < packed.count; i++) {
    rows[i] = {
      external_id: short[s++]!,
      type_name: short[s++]!,
      subject_name: short[s++]!,
      channel_code: short[s++]!,
      row_hash: short[s++]!,
      content: next()!,
      options: next(),
      answer: next(),
      analysis: next(),
    };
  }
  return rows;
}

/** The buffers `postMessage` can move instead of copying. */
export function transferablesOf(packed: PackedRows): ArrayBuffer[] {
  return [packed.lengths.buffer as ArrayBuffer, packed.text.buffer as ArrayBuffer];
}

/**
 * Turns the row's long fields into strings, in place: for statements that cannot bind UTF-8
 * bytes (PostgreSQL, Kysely's own updates).
 */
export function decodeTextFields(row: StoredQuestion): asserts row is StoredQuestion & { [F in (typeof LONG_FIELDS)[number]]: F extends 'content' ? string : string | null } {
  for (const field of LONG_FIELDS) {
    const value = row[field];
    if (value instanceof Uint8Array) row[field] = decoder.decode(value);
  }
}

function textLength(value: StoredText | null): number {
  if (value === null) return 0;
  return typeof value === 'string' ? value.length : Math.ceil(value.byteLength / 3);
}

function copyBytes(value: Uint8Array, into: Uint8Array, offset: number): number {
  into.set(value, offset);
  return value.byteLength;
}

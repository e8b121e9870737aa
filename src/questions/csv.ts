import { Utf8Lines, type DecodedText } from './utf8-lines.ts';

/**
 * RFC 4180 CSV, streamed: quoted fields may hold commas, quotes ("") and line breaks. A record
 * longer than `maxRecordChars` is reported, not buffered, so a broken quote cannot eat memory.
 */
export type CsvRecord = { index: number; fields: string[] } | { index: number; tooLong: true } | { index: number; invalidUtf8: true };

export async function* readCsvRecords(stream: ReadableStream<Uint8Array>, maxRecordChars: number): AsyncGenerator<CsvRecord> {
  // Line-aligned decoding that names the lines that were not UTF-8 (instead of U+FFFD in an id).
  const decoder = new Utf8Lines(maxRecordChars);
  let fields: string[] = [];
  let invalid = false;
  let field = '';
  let size = 0;
  let quoted = false;
  let quoteSeen = false; // the previous char was a quote inside a quoted field
  let tooLong = false;
  let index = 0;

  function* endRecord(): Generator<CsvRecord> {
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '';
    if (tooLong) yield { index: index++, tooLong: true };
    else if (invalid) yield { index: index++, invalidUtf8: true };
    else if (!blank) yield { index: index++, fields };
    fields = [];
    field = '';
    size = 0;
    tooLong = false;
    invalid = false;
  }

  function* parse({ text, invalid: bad }: DecodedText): Generator<CsvRecord> {
    // Utf8Lines drops Excel's BOM at the start of the stream.
    let nextBad = 0;
    for (let i = 0; i < text.length; i++) {
      if (bad.length > 0) {
        while (nextBad < bad.length && bad[nextBad]![1] <= i) nextBad++;
        if (nextBad < bad.length && bad[nextBad]![0] <= i) invalid = true;
      }
      const ch = text[i]!;
      if (quoted) {
        if (quoteSeen) {
          quoteSeen = false;
          if (ch === '"') {
            field += '"';
            continue;
          }
          quoted = false; // closing quote; fall through to handle ch unquoted
        } else if (ch === '"') {
          quoteSeen = true;
          continue;
        } else {
          if (++size <= maxRecordChars) field += ch;
          else tooLong = true;
          continue;
        }
      }
      if (ch === '"' && field === '') quoted = true;
      else if (ch === ',') {
        fields.push(field);
        field = '';
      } else if (ch === '\n') yield* endRecord();
      else if (ch !== '\r') {
        if (++size <= maxRecordChars) field += ch;
        else tooLong = true;
      }
    }
  }

  for await (const chunk of stream) yield* parse(decoder.push(chunk));
  yield* parse(decoder.end());
  if (quoteSeen) quoted = false;
  if (field !== '' || fields.length > 0) yield* endRecord();
}

/** Columns whose cells hold JSON when they look like it (`["a","b"]`, `{"A":"…"}`). */
const JSON_COLUMNS = new Set(['options', 'answer']);

/** One data row as a question-shaped object: empty cells are left out, JSON cells parsed. */
export function csvRowToObject(header: readonly string[], fields: readonly string[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  header.forEach((name, column) => {
    const cell = fields[column];
    if (cell === undefined || cell === '' || name === '') return;
    if (JSON_COLUMNS.has(name) && /^\s*[[{]/.test(cell)) {
      try {
        row[name] = JSON.parse(cell);
        return;
      } catch {
        // Not JSON after all: keep the text and let validation judge it.
      }
    }
    row[name] = cell;
  });
  return row;
}

/**
 * RFC 4180 CSV, streamed: quoted fields may hold commas, quotes ("") and line breaks. A record
 * longer than `maxRecordChars` is reported, not buffered, so a broken quote cannot eat memory.
 */
export type CsvRecord = { index: number; fields: string[] } | { index: number; tooLong: true };

export async function* readCsvRecords(stream: ReadableStream<Uint8Array>, maxRecordChars: number): AsyncGenerator<CsvRecord> {
  const decoder = new TextDecoder();
  let fields: string[] = [];
  let field = '';
  let size = 0;
  let quoted = false;
  let quoteSeen = false; // the previous char was a quote inside a quoted field
  let tooLong = false;
  let index = 0;
  let started = false;

  function* endRecord(): Generator<CsvRecord> {
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '';
    if (tooLong) yield { index: index++, tooLong: true };
    else if (!blank) yield { index: index++, fields };
    fields = [];
    field = '';
    size = 0;
    tooLong = false;
  }

  for await (const chunk of stream) {
    let text = decoder.decode(chunk, { stream: true });
    if (!started && text.length > 0) {
      started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // Excel's BOM
    }
    for (let i = 0; i < text.length; i++) {
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

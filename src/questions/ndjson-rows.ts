import { NdjsonSplitter, type NdjsonLine } from './ndjson.ts';
import { packRows, type PackedRows } from './packed-rows.ts';
import { validateRow, type StoredQuestion } from './stored-question.ts';

/** Bytes that are not UTF-8 would be stored as U+FFFD, an id as another id: the row is refused. */
export const INVALID_UTF8 = 'the line is not valid UTF-8 (invalid, overlong or surrogate byte sequences); nothing of it was stored';

export interface RowRejection {
  index: number;
  message: string;
}

/** What one chunk of an NDJSON body yields: rows ready to store, and the lines rejected. */
export interface ParsedChunk {
  rows: PackedRows;
  rejected: RowRejection[];
}

/**
 * Turns an NDJSON byte stream, chunk by chunk, into stored-shape rows: decodes, splits,
 * `JSON.parse`s, validates and hashes each line. Runs in the parsing thread
 * (ndjson-parser.worker.ts); holds one import's state between its chunks.
 */
export class NdjsonRowParser {
  private readonly splitter: NdjsonSplitter;

  constructor(private readonly maxLineBytes: number) {
    this.splitter = new NdjsonSplitter(maxLineBytes);
  }

  push(chunk: Uint8Array): ParsedChunk {
    return this.parse(this.splitter.push(chunk));
  }

  end(): ParsedChunk {
    return this.parse(this.splitter.end());
  }

  private parse(lines: NdjsonLine[]): ParsedChunk {
    const rows: StoredQuestion[] = [];
    const rejected: RowRejection[] = [];
    for (const line of lines) {
      if ('tooLong' in line) {
        rejected.push({ index: line.index, message: `line is longer than ${this.maxLineBytes} bytes` });
        continue;
      }
      if ('invalidUtf8' in line) {
        rejected.push({ index: line.index, message: INVALID_UTF8 });
        continue;
      }
      if (line.text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (error) {
        rejected.push({ index: line.index, message: `malformed JSON: ${(error as Error).message}` });
        continue;
      }
      const checked = validateRow(value);
      if ('row' in checked) rows.push(checked.row);
      else rejected.push({ index: line.index, message: checked.message });
    }
    return { rows: packRows(rows), rejected };
  }
}

import { Utf8Lines, type DecodedText } from './utf8-lines.ts';

/** A line, or why it cannot be one: longer than allowed, or bytes that are not UTF-8 (never silently replaced). */
export type NdjsonLine = { index: number; text: string } | { index: number; tooLong: true } | { index: number; invalidUtf8: true };

/**
 * Splits a byte stream, fed chunk by chunk, into numbered lines without ever holding more than
 * one line (capped at `maxLineBytes`) in memory, so an import file of any size streams through.
 * Lines are cut out of each decoded chunk by index, so a chunk of thousands of lines is not
 * re-sliced once per line. A UTF-8 character cut between two chunks is decoded whole; a line
 * whose bytes are not valid UTF-8 is reported as such (Utf8Lines), not decoded with U+FFFD.
 */
export class NdjsonSplitter {
  private readonly decoder: Utf8Lines;
  private pending = '';
  /** The pending line holds bytes that were not UTF-8. */
  private pendingInvalid = false;
  private skipping = false;
  private index = 0;

  constructor(private readonly maxLineBytes: number) {
    this.decoder = new Utf8Lines(maxLineBytes);
  }

  /** The lines completed by this chunk. */
  push(chunk: Uint8Array): NdjsonLine[] {
    return this.split(this.decoder.push(chunk));
  }

  /** The last line, if the stream did not end with a newline. */
  end(): NdjsonLine[] {
    const lines = this.split(this.decoder.end());
    const pending = this.pending;
    this.pending = '';
    if (this.skipping || pending.trim() === '') return lines;
    lines.push(this.pendingInvalid ? { index: this.index, invalidUtf8: true } : { index: this.index, text: pending });
    return lines;
  }

  private split({ text, invalid }: DecodedText): NdjsonLine[] {
    const lines: NdjsonLine[] = [];
    let start = 0;
    let bad = 0;
    /** Whether text[from, to) overlaps a range that was not UTF-8. */
    const invalidIn = (from: number, to: number) => {
      while (bad < invalid.length && invalid[bad]![1] <= from) bad++;
      return bad < invalid.length && invalid[bad]![0] < to;
    };
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      if (this.skipping) {
        this.skipping = false;
      } else {
        const line = this.pending === '' ? text.slice(start, newline) : this.pending + text.slice(start, newline);
        if (line.length > this.maxLineBytes) lines.push({ index: this.index, tooLong: true });
        else if (this.pendingInvalid || (invalid.length > 0 && invalidIn(start, newline + 1))) lines.push({ index: this.index, invalidUtf8: true });
        else lines.push({ index: this.index, text: line });
      }
      this.pending = '';
      this.pendingInvalid = false;
      this.index++;
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    if (this.skipping) return lines;
    if (start < text.length) {
      if (invalid.length > 0 && invalidIn(start, text.length)) this.pendingInvalid = true;
      this.pending += start === 0 ? text : text.slice(start);
    }
    if (this.pending.length > this.maxLineBytes) {
      // Report the oversized line once, then drop the rest of it as it arrives.
      lines.push({ index: this.index, tooLong: true });
      this.pending = '';
      this.pendingInvalid = false;
      this.skipping = true;
    }
    return lines;
  }
}

/** The same lines as an async iterator over a whole stream. */
export async function* readLines(stream: ReadableStream<Uint8Array>, maxLineBytes: number): AsyncGenerator<NdjsonLine> {
  const splitter = new NdjsonSplitter(maxLineBytes);
  for await (const chunk of stream) yield* splitter.push(chunk);
  yield* splitter.end();
}

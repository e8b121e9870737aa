export type NdjsonLine = { index: number; text: string } | { index: number; tooLong: true };

/**
 * Splits a byte stream, fed chunk by chunk, into numbered lines without ever holding more than
 * one line (capped at `maxLineBytes`) in memory, so an import file of any size streams through.
 * Lines are cut out of each decoded chunk by index, so a chunk of thousands of lines is not
 * re-sliced once per line. A UTF-8 character cut between two chunks is decoded whole.
 */
export class NdjsonSplitter {
  private readonly decoder = new TextDecoder();
  private pending = '';
  private skipping = false;
  private index = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** The lines completed by this chunk. */
  push(chunk: Uint8Array): NdjsonLine[] {
    return this.split(this.decoder.decode(chunk, { stream: true }));
  }

  /** The last line, if the stream did not end with a newline. */
  end(): NdjsonLine[] {
    const pending = this.pending + this.decoder.decode();
    this.pending = '';
    if (this.skipping || pending.trim() === '') return [];
    return [{ index: this.index, text: pending }];
  }

  private split(text: string): NdjsonLine[] {
    const lines: NdjsonLine[] = [];
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      if (this.skipping) {
        this.skipping = false;
      } else {
        const line = this.pending === '' ? text.slice(start, newline) : this.pending + text.slice(start, newline);
        if (line.length > this.maxLineBytes) lines.push({ index: this.index, tooLong: true });
        else lines.push({ index: this.index, text: line });
      }
      this.pending = '';
      this.index++;
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    if (this.skipping) return lines;
    if (start < text.length) this.pending += start === 0 ? text : text.slice(start);
    if (this.pending.length > this.maxLineBytes) {
      // Report the oversized line once, then drop the rest of it as it arrives.
      lines.push({ index: this.index, tooLong: true });
      this.pending = '';
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

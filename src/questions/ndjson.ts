export type NdjsonLine = { index: number; text: string } | { index: number; tooLong: true };

/**
 * Splits a byte stream into lines without ever holding more than one line (capped at
 * `maxLineBytes`) in memory, so an import file of any size streams through. Lines are cut
 * out of each decoded chunk by index, so a chunk of thousands of lines is not re-sliced
 * once per line.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>, maxLineBytes: number): AsyncGenerator<NdjsonLine> {
  const decoder = new TextDecoder();
  let pending = '';
  let skipping = false;
  let index = 0;
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      if (skipping) {
        skipping = false;
      } else {
        const line = pending === '' ? text.slice(start, newline) : pending + text.slice(start, newline);
        if (line.length > maxLineBytes) yield { index, tooLong: true };
        else yield { index, text: line };
      }
      pending = '';
      index++;
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    if (skipping) continue;
    if (start < text.length) pending += start === 0 ? text : text.slice(start);
    if (pending.length > maxLineBytes) {
      // Report the oversized line once, then drop the rest of it as it arrives.
      yield { index, tooLong: true };
      pending = '';
      skipping = true;
    }
  }
  pending += decoder.decode();
  if (!skipping && pending.trim() !== '') yield { index, text: pending };
}

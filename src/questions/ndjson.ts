export type NdjsonLine = { index: number; text: string } | { index: number; tooLong: true };

/**
 * Splits a byte stream into lines without ever holding more than one line (capped at
 * `maxLineBytes`) in memory, so an import file of any size streams through.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>, maxLineBytes: number): AsyncGenerator<NdjsonLine> {
  const decoder = new TextDecoder();
  let pending = '';
  let skipping = false;
  let index = 0;
  for await (const chunk of stream) {
    let text = decoder.decode(chunk, { stream: true });
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      const piece = text.slice(0, newline);
      if (skipping) {
        skipping = false;
      } else {
        const line = pending + piece;
        if (line.length > maxLineBytes) yield { index, tooLong: true };
        else yield { index, text: line };
      }
      pending = '';
      index++;
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    if (skipping) continue;
    pending += text;
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

/**
 * The stream's bytes in pieces of at least `minBytes` (the last one may be smaller): a body
 * that arrives in many small chunks is handed on in fewer, larger ones. Large chunks pass
 * through untouched; small ones are copied into one buffer, so at most `minBytes` wait here.
 */
export async function* coalesce(stream: AsyncIterable<Uint8Array>, minBytes: number): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    if (size === 0 && chunk.byteLength >= minBytes) {
      yield chunk;
      continue;
    }
    parts.push(chunk);
    size += chunk.byteLength;
    if (size >= minBytes) {
      yield join(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield join(parts, size);
}

function join(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

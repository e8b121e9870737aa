/**
 * How long received bytes wait for more before they are handed on anyway. A client that pauses
 * mid-body (or a body's last piece before a pause) would otherwise hold up to `minBytes` of rows
 * here until it sends again: not parsed, not saved, and lost with the message they end up in
 * should the parsing thread fail on what comes next.
 */
const IDLE_FLUSH_MS = 20;

/**
 * The stream's bytes in pieces of at least `minBytes` (the last one may be smaller): a body
 * that arrives in many small chunks is handed on in fewer, larger ones. Large chunks pass
 * through untouched; small ones are copied into one buffer, so at most `minBytes` wait here,
 * and for at most `idleMs` once nothing more arrives.
 */
export async function* coalesce(stream: AsyncIterable<Uint8Array>, minBytes: number, idleMs = IDLE_FLUSH_MS): AsyncGenerator<Uint8Array> {
  const chunks = stream[Symbol.asyncIterator]();
  let parts: Uint8Array[] = [];
  let size = 0;
  let pending: Promise<IteratorResult<Uint8Array>> | undefined;
  let finished = false;
  try {
    for (;;) {
      pending ??= chunks.next();
      const next = size > 0 ? await withinIdle(pending, idleMs) : await pending;
      if (next === IDLE) {
        yield join(parts, size);
        parts = [];
        size = 0;
        continue;
      }
      pending = undefined;
      if (next.done) break;
      const chunk = next.value;
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
    finished = true;
    if (size > 0) yield join(parts, size);
  } finally {
    // Stopped early (the consumer failed or returned): let the source release what it holds. Not
    // awaited: a read may be pending on a client that is itself waiting for our answer.
    if (!finished) chunks.return?.(undefined).catch(() => {});
  }
}

const IDLE = Symbol('idle');

/** The next chunk, or IDLE when none came within `ms`. */
async function withinIdle(next: Promise<IteratorResult<Uint8Array>>, ms: number): Promise<IteratorResult<Uint8Array> | typeof IDLE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([next, new Promise<typeof IDLE>((resolve) => (timer = setTimeout(() => resolve(IDLE), ms)))]);
  } finally {
    clearTimeout(timer);
  }
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

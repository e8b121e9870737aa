/**
 * Decodes a UTF-8 byte stream line-aligned and tells which lines were not valid UTF-8.
 *
 * A forgiving TextDecoder turns invalid bytes (a stray 0xFF, an overlong or a surrogate
 * encoding) into U+FFFD without a word, so an id sent as bytes was stored as another id. Here
 * each chunk is decoded up to its last newline with a fatal decoder (0x0A never occurs inside
 * a multi-byte sequence, so a line never straddles the cut); only when that throws is the
 * chunk decoded line by line, to find the bad lines: valid input pays one decode, as before.
 * A bad line still comes out (forgivingly decoded, so line and record numbering stay right)
 * with its character range listed in `invalid`, and the caller rejects the row it belongs to.
 */
export interface DecodedText {
  text: string;
  /** [start, end) character ranges of `text` that came from lines that were not valid UTF-8. */
  invalid: [number, number][];
}

const NEWLINE = 0x0a;

export class Utf8Lines {
  private readonly strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly lenient = new TextDecoder('utf-8', { ignoreBOM: true });
  /** Bytes after the last newline seen, waiting for the rest of their line. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private started = false;

  /** `maxPendingBytes`: a line longer than this is handed out in pieces (cut between characters) rather than held. */
  constructor(private readonly maxPendingBytes: number) {}

  /** The text of the lines this chunk completes (newlines included), and of an overlong line's next piece. */
  push(chunk: Uint8Array): DecodedText {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      this.hold(chunk);
      if (this.pendingBytes <= this.maxPendingBytes) return { text: '', invalid: [] };
      return this.release(false);
    }
    const first = chunk.indexOf(NEWLINE);
    const out: DecodedText = { text: '', invalid: [] };
    if (this.pendingBytes > 0) {
      // The held start of a line and its end in this chunk: one line, decoded on its own.
      this.hold(chunk.subarray(0, first + 1));
      this.append(out, this.takePending());
      this.append(out, chunk.subarray(first + 1, last + 1));
    } else this.append(out, chunk.subarray(0, last + 1));
    if (last + 1 < chunk.length) this.hold(chunk.subarray(last + 1));
    return out;
  }

  /** The last line, if the stream did not end with a newline. */
  end(): DecodedText {
    return this.pendingBytes === 0 ? { text: '', invalid: [] } : this.release(true);
  }

  private hold(bytes: Uint8Array) {
    if (bytes.length === 0) return;
    // A copy: the caller may reuse its buffer.
    this.pending.push(bytes.slice());
    this.pendingBytes += bytes.length;
  }

  private takePending(): Uint8Array {
    const joined = this.pending.length === 1 ? this.pending[0]! : concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return joined;
  }

  /** Hands out the held bytes: all of them at the end, else up to the last character boundary. */
  private release(all: boolean): DecodedText {
    const bytes = this.takePending();
    let cut = bytes.length;
    if (!all) {
      // Back up over continuation bytes (10xxxxxx) to the start of the last, maybe unfinished, character.
      let k = bytes.length - 1;
      while (k > 0 && k > bytes.length - 4 && (bytes[k]! & 0xc0) === 0x80) k--;
      if ((bytes[k]! & 0xc0) === 0xc0) cut = k;
    }
    const out: DecodedText = { text: '', invalid: [] };
    this.append(out, bytes.subarray(0, cut));
    if (cut < bytes.length) this.hold(bytes.subarray(cut));
    return out;
  }

  private append(out: DecodedText, bytes: Uint8Array) {
    if (bytes.length === 0) return;
    let text: string;
    try {
      text = this.strict.decode(bytes);
    } catch {
      return this.appendLineByLine(out, bytes);
    }
    this.add(out, text, false);
  }

  private appendLineByLine(out: DecodedText, bytes: Uint8Array) {
    for (let start = 0; start < bytes.length; ) {
      const newline = bytes.indexOf(NEWLINE, start);
      const end = newline === -1 ? bytes.length : newline + 1;
      const line = bytes.subarray(start, end);
      let text: string;
      let bad = false;
      try {
        text = this.strict.decode(line);
      } catch {
        text = this.lenient.decode(line);
        bad = true;
      }
      this.add(out, text, bad);
      start = end;
    }
  }

  private add(out: DecodedText, text: string, bad: boolean) {
    // A byte-order mark opens the stream at most once (Excel writes one); anywhere else it is text.
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (bad) out.invalid.push([out.text.length, out.text.length + text.length]);
    out.text += text;
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

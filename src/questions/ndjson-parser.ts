import { Worker } from 'node:worker_threads';
import type { ParsedChunk } from './ndjson-rows.ts';

export type ParserRequest =
  | { kind: 'chunk'; session: number; maxLineBytes: number; bytes: ArrayBuffer }
  | { kind: 'end'; session: number; maxLineBytes: number }
  | { kind: 'abort'; session: number };

export type ParserReply = { session: number; parsed: ParsedChunk } | { session: number; error: string };

/** The parsing thread stopped (crashed, or the service is closing) with chunks of an import still unanswered. */
export class ParserFailedError extends Error {}

/** One import's side of the parsing thread: chunks in, parsed chunks out, in order. */
export interface NdjsonParseSession {
  /** Parses the lines this chunk completes. The chunk's bytes are copied: the caller keeps its buffer. */
  push(chunk: Uint8Array): Promise<ParsedChunk>;
  /** Parses the last line (one without a trailing newline) and ends the session. */
  end(): Promise<ParsedChunk>;
  /** Ends the session early (the body failed); its state in the thread is dropped. */
  abort(): void;
}

interface Waiting {
  resolve(parsed: ParsedChunk): void;
  reject(error: Error): void;
}

const DEFAULT_WORKER = new URL('./ndjson-parser.worker.ts', import.meta.url);

/**
 * A dedicated thread that decodes, splits, `JSON.parse`s, validates and hashes NDJSON imports,
 * so the main thread only binds and inserts rows (those steps were about half of its time per
 * imported row). Created by the composition root (main.ts); the thread itself starts with the
 * first import and is replaced by a new one at the next import if it dies. Every session
 * waiting on a thread that died is failed with ParserFailedError.
 */
export class NdjsonParser {
  private worker: Worker | undefined;
  /** Replies each session still waits for, oldest first (the thread answers in order). */
  private readonly waiting = new Map<number, Waiting[]>();
  private nextSession = 1;
  private closed = false;

  /** `workerFile`: tests swap in a fixture thread that fails. */
  constructor(private readonly workerFile: URL = DEFAULT_WORKER) {}

  open(maxLineBytes: number): NdjsonParseSession {
    if (this.closed) throw new ParserFailedError('the NDJSON parser is closed');
    const worker = (this.worker ??= this.start());
    const session = this.nextSession++;
    this.waiting.set(session, []);
    const request = (message: ParserRequest, transfer: ArrayBuffer[] = []) =>
      new Promise<ParsedChunk>((resolve, reject) => {
        const queue = this.waiting.get(session);
        // The thread this session began on died: its state (a half line, a half character) is gone.
        if (!queue || this.worker !== worker) return reject(new ParserFailedError('the NDJSON parsing thread stopped during this import'));
        queue.push({ resolve, reject });
        worker.postMessage(message, transfer);
      });
    return {
      push: (chunk) => {
        // A copy the thread can own: a body chunk may be a view into a buffer shared with others.
        // Allocated and set, not `new Uint8Array(chunk)`: Bun copies a Buffer that way byte by byte.
        const copy = new Uint8Array(chunk.byteLength);
        copy.set(chunk);
        const bytes = copy.buffer;
        return request({ kind: 'chunk', session, maxLineBytes, bytes }, [bytes]);
      },
      end: () => request({ kind: 'end', session, maxLineBytes }),
      abort: () => {
        if (!this.waiting.delete(session) || this.worker !== worker) return;
        worker.postMessage({ kind: 'abort', session } satisfies ParserRequest);
      },
    };
  }

  /** Stops the thread; imports still parsing fail with ParserFailedError. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.fail(worker, 'the service is closing');
    await worker?.terminate();
  }

  private start(): Worker {
    // Named (15 characters at most): how `top -H` and the benches tell the threads apart.
    const worker = new Worker(this.workerFile, { name: 'ndjson-parser' });
    // Idle between imports; it must not keep a finished process alive.
    worker.unref();
    worker.on('message', (reply: ParserReply) => this.answer(reply));
    worker.on('error', (error: Error) => this.fail(worker, `the NDJSON parsing thread failed: ${error.message}`));
    worker.on('exit', (code) => this.fail(worker, `the NDJSON parsing thread exited (code ${code})`));
    return worker;
  }

  private answer(reply: ParserReply) {
    const queue = this.waiting.get(reply.session);
    const next = queue?.shift();
    if (!next) return; // an aborted session's late reply
    if ('error' in reply) {
      this.waiting.delete(reply.session);
      next.reject(new ParserFailedError(`parsing the NDJSON body failed: ${reply.error}`));
      for (const rest of queue!) rest.reject(new ParserFailedError(`parsing the NDJSON body failed: ${reply.error}`));
    } else next.resolve(reply.parsed);
  }

  /** Fails every session of `worker` (if it is still the current thread) and forgets the thread. */
  private fail(worker: Worker | undefined, message: string) {
    if (!worker || this.worker !== worker) return;
    this.worker = undefined;
    for (const queue of this.waiting.values()) for (const waiting of queue) waiting.reject(new ParserFailedError(message));
    this.waiting.clear();
  }
}

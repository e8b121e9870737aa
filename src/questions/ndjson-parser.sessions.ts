import { NdjsonRowParser } from './ndjson-rows.ts';
import { transferablesOf } from './packed-rows.ts';
import type { ParserReply, ParserRequest } from './ndjson-parser.ts';

/**
 * The parsing thread's side of the protocol (the thread's entry, ndjson-parser.worker.ts, only
 * wires it to its port): one NdjsonRowParser per import session, and for every chunk and every
 * end the chunk's rows and rejections, with the buffers the reply can move. Sessions never
 * share state, so imports running at the same time interleave freely.
 */
export class ParserSessions {
  private readonly sessions = new Map<number, NdjsonRowParser>();

  answer(request: ParserRequest): { reply: ParserReply; transfer: ArrayBuffer[] } | undefined {
    const { session } = request;
    try {
      if (request.kind === 'abort') {
        this.sessions.delete(session);
        return undefined;
      }
      let parser = this.sessions.get(session);
      if (!parser) this.sessions.set(session, (parser = new NdjsonRowParser(request.maxLineBytes)));
      if (request.kind === 'end') this.sessions.delete(session);
      const parsed = request.kind === 'chunk' ? parser.push(new Uint8Array(request.bytes)) : parser.end();
      return { reply: { session, parsed }, transfer: transferablesOf(parsed.rows) };
    } catch (error) {
      // A bug in parsing must fail this import, not the thread every other import shares.
      this.sessions.delete(session);
      return { reply: { session, error: (error as Error).message }, transfer: [] };
    }
  }
}

/**
 * Worker-thread entry of the NDJSON parsing thread (see ndjson-parser.ts): keeps one
 * NdjsonRowParser per import session and answers every chunk and every end with the chunk's
 * rows and rejections, in the order the messages came. Sessions never share state, so imports
 * running at the same time interleave freely.
 */
import { parentPort } from 'node:worker_threads';
import { NdjsonRowParser } from './ndjson-rows.ts';
import { transferablesOf } from './packed-rows.ts';
import type { ParserReply, ParserRequest } from './ndjson-parser.ts';

const sessions = new Map<number, NdjsonRowParser>();

function handle(request: ParserRequest): ParserReply | undefined {
  const { session } = request;
  if (request.kind === 'abort') {
    sessions.delete(session);
    return undefined;
  }
  let parser = sessions.get(session);
  if (!parser) sessions.set(session, (parser = new NdjsonRowParser(request.maxLineBytes)));
  if (request.kind === 'chunk') return { session, parsed: parser.push(new Uint8Array(request.bytes)) };
  sessions.delete(session);
  return { session, parsed: parser.end() };
}

parentPort!.on('message', (request: ParserRequest) => {
  let reply: ParserReply | undefined;
  try {
    reply = handle(request);
  } catch (error) {
    // A bug in parsing must fail this import, not the thread every other import shares.
    sessions.delete(request.session);
    reply = { session: request.session, error: (error as Error).message };
  }
  if (reply) parentPort!.postMessage(reply, 'parsed' in reply ? transferablesOf(reply.parsed.rows) : []);
});

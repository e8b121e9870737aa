/** Worker-thread entry of the NDJSON parsing thread (see ndjson-parser.ts and ndjson-parser.sessions.ts). */
import { parentPort } from 'node:worker_threads';
import type { ParserRequest } from './ndjson-parser.ts';
import { ParserSessions } from './ndjson-parser.sessions.ts';

const sessions = new ParserSessions();
parentPort!.on('message', (request: ParserRequest) => {
  const answer = sessions.answer(request);
  if (answer) parentPort!.postMessage(answer.reply, answer.transfer);
});

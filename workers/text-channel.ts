/**
 * Texts on demand, for a worker that must keep its state. A re-run sends a group without the
 * texts of rows whose prints are stored (GroupJob.omitted); the worker learns which of them it
 * must read (a pair with a new question to verify, a cluster's similarity) only after its
 * candidate search. Asking back in a second trip would repeat that search, so the worker asks
 * the runner over a MessagePort and blocks on a shared flag until the answer is there:
 * it is the one thread with nothing else to do, and the main thread answers asynchronously.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { FetchTexts } from './dedup/engine.ts';
import { textBuffers } from './packed-texts.ts';
import type { FetchedTexts, TextChannel } from './protocol.ts';

type Answer = FetchedTexts | { error: string };

/**
 * How long the worker waits for one answer. The group's own timeout normally ends a stuck
 * group first (its thread is terminated, wait or not); this only keeps a lost answer from
 * blocking a thread forever.
 */
const ANSWER_WAIT_MS = 10 * 60_000;

/** The worker's side: a FetchTexts that asks over the channel and waits for the answer. */
export function fetchTextsOver(channel: TextChannel, waitMs = ANSWER_WAIT_MS): FetchTexts {
  return (rows) => {
    Atomics.store(channel.answered, 0, 0);
    channel.port.postMessage(rows, [rows.buffer as ArrayBuffer]);
    if (Atomics.wait(channel.answered, 0, 0, waitMs) === 'timed-out') throw new Error(`no texts from the runner within ${waitMs} ms`);
    const received = receiveMessageOnPort(channel.port);
    if (received === undefined) throw new Error('the runner signalled texts but sent none');
    const answer = received.message as Answer;
    if ('error' in answer) throw new Error(`fetching texts failed: ${answer.error}`);
    return answer;
  };
}

/**
 * The runner's side: answers every request with `read(rows)`. `channel` goes into the job
 * (its port in the transfer list); close() once the group is done with.
 */
export function serveTexts(read: (rows: Int32Array) => Promise<FetchedTexts>): { channel: TextChannel; close(): void } {
  const { port1, port2 } = new MessageChannel();
  const answered = new Int32Array(new SharedArrayBuffer(4));
  const reply = (answer: Answer, transfer: ArrayBuffer[]) => {
    port1.postMessage(answer, transfer);
    Atomics.store(answered, 0, 1);
    Atomics.notify(answered, 0);
  };
  port1.on('message', (rows: Int32Array) => {
    Promise.resolve(rows).then(read).then(
      (texts) => reply(texts, [...textBuffers(texts.contents), ...textBuffers(texts.options)]),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }, []),
    );
  });
  return { channel: { port: port2 as MessagePort, answered }, close: () => port1.close() };
}

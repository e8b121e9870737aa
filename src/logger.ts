import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.ts';

const BASE = { service: 'question-dedup' };

/**
 * The process's logger. JSON, one object a line, for log collectors (containers, process
 * managers, files); pino's pretty output when stdout is a terminal, where a person reads it.
 * pino-pretty is loaded only then, so a production process never imports or runs it.
 */
export async function createLogger(level: LogLevel, options: { terminal: boolean }): Promise<Logger> {
  // Asynchronous: a synchronous write(2) a line held the main thread for every request (~0.15 ms
  // of it a check, docs/no-stall.md). Lines that come while a write is out go together in the
  // next; the service's exit waits for the last ones (drainLogs).
  if (!options.terminal) return pino({ level, base: BASE }, pino.destination({ dest: 1, sync: false }));
  const { default: pretty } = await import('pino-pretty');
  // sync: the last lines before process.exit (as 'service stopped') are not lost.
  return pino({ level, base: BASE }, pretty({ colorize: true, sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
}

/** The part of an asynchronous destination (sonic-boom) a drain needs. */
interface EndingStream {
  sync?: boolean;
  destroyed?: boolean;
  end(): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Resolves once every line logged so far is written, or after `maxMs`: the process may exit then
 * without losing its last lines ('service stopped'). pino's own flush at exit writes what waits
 * in the buffer, but not a write already handed to the thread pool, which `process.exit` cut
 * short. Ends the destination (stdout stays open): the last thing before exiting.
 */
export function drainLogs(logger: Logger, maxMs = 2000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, EndingStream | undefined>)[pino.symbols.streamSym];
  if (stream === undefined || stream.sync !== false || stream.destroyed || typeof stream.end !== 'function') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, maxMs);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.end();
  });
}

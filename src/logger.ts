import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.ts';

const BASE = { service: 'question-dedup' };

/**
 * The process's logger. JSON, one object a line, for log collectors (containers, process
 * managers, files); pino's pretty output when stdout is a terminal, where a person reads it.
 * pino-pretty is loaded only then, so a production process never imports or runs it.
 */
export async function createLogger(level: LogLevel, options: { terminal: boolean }): Promise<Logger> {
  if (!options.terminal) return pino({ level, base: BASE });
  const { default: pretty } = await import('pino-pretty');
  // sync: the last lines before process.exit (as 'service stopped') are not lost.
  return pino({ level, base: BASE }, pretty({ colorize: true, sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
}

import os from 'node:os';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  /** Unset: every interface, IPv6 and IPv4 alike, as Node's own default. */
  host: string | undefined;
  databaseUrl: string;
  workers: number;
  /** `'*'` allows any origin; otherwise an explicit allow-list. */
  corsOrigins: '*' | string[];
  progressIntervalMs: number;
  logLevel: LogLevel;
  /** Empty: the service is open. */
  authTokens: string[];
  /** Token → its name, for the entries of AUTH_TOKENS given as `name:token`: who made a review decision. */
  tokenNames: Readonly<Record<string, string>>;
  maxBodyMb: number;
  groupTimeoutMs: number;
  shutdownGraceMs: number;
  /** Resident memory above which the runner aborts the longest-running group; 0: no limit. */
  memoryLimitMb: number;
  /** Questions of the groups read ahead or computing at once: bounds a task's memory on a skewed bank. */
  questionsInFlight: number;
  /** Names this instance on the groups it leases; unset: a fresh id per start. */
  instanceId: string | undefined;
  /** Shared PostgreSQL: a claimed group is this instance's for this long without a renewal. */
  leaseMs: number;
  /** Shared PostgreSQL: how often an instance looks for running tasks it can help with. */
  taskPollMs: number;
  /** PostgreSQL: the most connections one instance opens for queries. */
  dbPoolSize: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function instanceId(raw: string | undefined): string | undefined {
  const id = raw?.trim();
  if (!id) return undefined;
  if (!/^[\w.:-]{1,100}$/.test(id)) throw new ConfigError(`INSTANCE_ID must be 1-100 letters, digits or . _ : -, got "${raw}"`);
  return id;
}

/**
 * AUTH_TOKENS entries: a plain token, or `name:token` where the name (letters, digits, . _ -)
 * says who uses it; review decisions record that name. A plain token never holds a colon
 * after such a name, so older configurations keep working.
 */
function authEntries(raw: string | undefined): { token: string; name?: string }[] {
  return list(raw).map((entry) => {
    const named = /^([\w.-]{1,64}):(\S+)$/.exec(entry);
    return named ? { name: named[1]!, token: named[2]! } : { token: entry };
  });
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Turns the environment into one frozen, validated object; nothing else reads `process.env`. */
export function loadConfig(env: Env): Readonly<Config> {
  const databaseUrl = env.DATABASE_URL?.trim() || 'sqlite:./data/dedup.sqlite';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must start with sqlite: or postgres://, got "${databaseUrl}"`);
  }
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const origins = list(env.CORS_ORIGINS);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS entries must be '*' or origins like http://host:port, got "${origin}"`);
    }
  }
  const tokens = authEntries(env.AUTH_TOKENS);
  return Object.freeze({
    port: integer(env, 'PORT', 5000, 0, 65535),
    host: env.HOST?.trim() || undefined,
    databaseUrl,
    // A worker per core: worker threads run at a lower priority (workers/thread-priority.ts), so
    // the main thread's requests and events still go first when cores are short.
    workers: integer(env, 'WORKERS', Math.max(1, os.availableParallelism()), 1, 256),
    corsOrigins: origins.length === 0 || origins.includes('*') ? '*' : Object.freeze(origins) as string[],
    progressIntervalMs: integer(env, 'PROGRESS_INTERVAL_MS', 100, 0, 60_000),
    logLevel,
    authTokens: Object.freeze(tokens.map((entry) => entry.token)) as string[],
    tokenNames: Object.freeze(Object.fromEntries(tokens.filter((entry) => entry.name !== undefined).map((entry) => [entry.token, entry.name!]))),
    maxBodyMb: integer(env, 'MAX_BODY_MB', 50, 1, 10_240),
    groupTimeoutMs: integer(env, 'GROUP_TIMEOUT_MS', 10 * 60_000, 100, 24 * 3_600_000),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    memoryLimitMb: integer(env, 'MEMORY_LIMIT_MB', 4096, 0, 1_048_576),
    questionsInFlight: integer(env, 'QUESTIONS_IN_FLIGHT', 160_000, 1, 100_000_000),
    instanceId: instanceId(env.INSTANCE_ID),
    leaseMs: integer(env, 'LEASE_MS', 30_000, 300, 3_600_000),
    taskPollMs: integer(env, 'TASK_POLL_MS', 1_000, 50, 600_000),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 2, 1_000),
  });
}

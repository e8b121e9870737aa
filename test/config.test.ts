import { describe, expect, it } from 'bun:test';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration from the environment', () => {
  it('defaults to port 5000, the SQLite file under ./data and one worker per core', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 5000, databaseUrl: 'sqlite:./data/dedup.sqlite', corsOrigins: '*', progressIntervalMs: 100, logLevel: 'info', authTokens: [] });
    expect(config.workers).toBeGreaterThanOrEqual(1);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads lists and numbers', () => {
    const config = loadConfig({ PORT: '8080', WORKERS: '3', CORS_ORIGINS: 'http://a.example, https://b.example:8443', AUTH_TOKENS: 'one, two', PROGRESS_INTERVAL_MS: '0' });
    expect(config).toMatchObject({ port: 8080, workers: 3, corsOrigins: ['http://a.example', 'https://b.example:8443'], authTokens: ['one', 'two'], progressIntervalMs: 0 });
  });

  it('stops with one line naming the variable for every bad value', () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ WORKERS: '0' }, 'WORKERS'],
      [{ PROGRESS_INTERVAL_MS: '-5' }, 'PROGRESS_INTERVAL_MS'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ CORS_ORIGINS: 'not a url' }, 'CORS_ORIGINS'],
      [{ MAX_BODY_MB: '1.5' }, 'MAX_BODY_MB'],
    ];
    for (const [env, name] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(new RegExp(`^${name} `));
    }
  });
});

/**
 * The README and docs/ say what the code does: the configuration table is the environment
 * config.ts reads, with its defaults; every route and event the README lists exists; every
 * relative link leads to a file; the image's shutdown grace fits Docker's stop timeout.
 */
import { describe, expect, it } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createApp, type AppDeps } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

const ROOT = join(import.meta.dir, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const README = read('README.md');

/** The README's text from a `## heading` to the next one. */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** Rows of the first markdown table in `text`, as cells (header and rule left out). */
function tableRows(text: string): string[][] {
  const lines = text.split('\n').filter((line) => line.startsWith('|'));
  return lines.slice(2).map((line) => line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim()));
}

const camelCase = (name: string) => name.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

describe('README', () => {
  it('lists exactly the variables src/config.ts reads, with their defaults', () => {
    const source = read('src/config.ts');
    const read_ = new Set([...source.matchAll(/env\.([A-Z][A-Z_]+)|\(env, '([A-Z][A-Z_]+)'/g)].map((m) => m[1] ?? m[2]!));
    const rows = tableRows(section('Configuration'));
    const documented = rows.map(([name]) => name!.replace(/`/g, ''));
    expect([...documented].sort()).toEqual([...read_].sort());

    const defaults = loadConfig({}) as unknown as Record<string, unknown>;
    for (const [name, fallback] of rows) {
      const key = camelCase(name!.replace(/`/g, ''));
      const stated = fallback!.match(/^`([^`]+)`/)?.[1];
      const actual = defaults[key];
      if (stated === undefined || actual === undefined) continue; // described in words, or no default value
      expect(`${name} ${stated}`).toBe(`${name} ${typeof actual === 'number' ? actual : String(actual)}`);
    }
  });

  it('lists only routes the app serves', () => {
    // createApp does no I/O, so its route table can be read without a database behind it.
    const app = createApp({ authTokens: [], corsOrigins: '*', maxBodyMb: 1, version: 'test', metrics: { render: async () => '', recordRequest() {} } } as unknown as AppDeps);
    const served = new Set(app.routes.map((route) => `${route.method} ${route.path.replace(/\/$/, '')}`));
    const listed = [...section('The API in brief').matchAll(/`((?:GET|POST|DELETE|PUT|PATCH) \/[^`\s]+)`/g)].map((m) => m[1]!);
    expect(listed.length).toBeGreaterThan(10);
    for (const route of listed) expect(served.has(route) ? route : `not served: ${route}`).toBe(route);
  });

  it('lists only Socket.IO events src/realtime/events.ts declares', () => {
    const events = read('src/realtime/events.ts');
    const rows = tableRows(section('The API in brief').slice(section('The API in brief').indexOf('| direction |')));
    expect(rows.length).toBeGreaterThan(5);
    for (const [, event] of rows) {
      const name = event!.replace(/`/g, '');
      expect(new RegExp(`^\\s+${name}: \\(`, 'm').test(events) ? name : `not declared: ${name}`).toBe(name);
    }
  });

  it("states the image's shutdown grace, which stays below docker stop's 10 s", () => {
    const grace = Number(read('Dockerfile').match(/SHUTDOWN_GRACE_MS=(\d+)/)?.[1]);
    expect(grace).toBeGreaterThan(0);
    expect(grace).toBeLessThan(10_000);
    expect(section('Configuration')).toContain(`(\`${grace}\` in the image)`);
  });
});

describe('Dockerfile', () => {
  it('installs exactly the locked dependencies, with no unlocked fallback and no syntax directive', () => {
    const dockerfile = read('Dockerfile');
    const installs = dockerfile.split('\n').filter((line) => /^RUN .*\bbun install\b/.test(line));
    expect(installs).toEqual(['RUN bun install --production --frozen-lockfile --ignore-scripts']);
    expect(dockerfile).not.toMatch(/^#\s*syntax=/m);
  });
});

describe('links in the README, CHANGELOG and docs/', () => {
  // Pages the docs index names that teammates write in parallel; every other link must resolve.
  const WRITTEN_ELSEWHERE = new Set(['docs/algorithm.md', 'docs/review.md', 'docs/review-engine.md', 'docs/dashboard.md', 'docs/no-stall.md']);
  const pages = ['README.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

  for (const page of pages) {
    it(`${page}: every relative link leads to a file of the repository`, () => {
      const targets = [...read(page).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/.test(target) && !target.startsWith('#'));
      for (const target of targets) {
        const path = join(dirname(page), target.replace(/#.*$/, ''));
        if (WRITTEN_ELSEWHERE.has(path)) continue;
        expect(existsSync(join(ROOT, path)) ? path : `${page} links to a missing ${path}`).toBe(path);
      }
    });
  }
});

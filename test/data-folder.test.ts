/**
 * A data folder the service cannot write (a root-owned bind mount, a container under an
 * arbitrary uid) stops it at start with a message naming the file, the folder, the process's
 * uid and the folder's owner; not SQLite's bare "unable to open database file".
 */
import { afterEach, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../src/db/sqlite.ts';

setDefaultTimeout(60_000);

const BUN = './node_modules/.bin/bun';
const NOBODY = 65534;

describe('a data folder the service cannot use', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('names the database file when a folder on its path is a file', () => {
    dir = mkdtempSync(join(tmpdir(), 'dedup-data-'));
    writeFileSync(join(dir, 'data'), 'not a folder');
    expect(() => openSqlite(join(dir!, 'data', 'dedup.sqlite'))).toThrow(`cannot open the SQLite database ${join(dir, 'data', 'dedup.sqlite')}: `);
  });

  it('stops the service with the file, the folder, the uid and the owner when the folder is not writable', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dedup-data-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    // Root may write anywhere: as root, the service runs as nobody (a folder owned by root, mode 755,
    // as a bind mount of a root-owned host folder); otherwise the folder is made read-only. Nobody
    // keeps CAP_DAC_READ_SEARCH, which lets it read the project wherever it is checked out (a clone
    // in a mode-700 temporary folder) and grants no write access.
    const root = process.getuid!() === 0;
    chmodSync(dir, 0o755);
    chmodSync(data, root ? 0o755 : 0o555);
    const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];
    const command = [...(root ? asNobody : []), BUN, 'src/main.ts'];
    const child = Bun.spawn(command, {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', WORKERS: '1', DATABASE_URL: `sqlite:${join(data, 'dedup.sqlite')}`, BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    chmodSync(data, 0o755);
    expect(code).toBe(1);
    const uid = root ? NOBODY : process.getuid!();
    expect(stderr).toContain(`failed to start: cannot open the SQLite database ${join(data, 'dedup.sqlite')}: the folder ${data} is not writable by this process (uid ${uid}, `);
    expect(stderr).toMatch(/it belongs to uid \d+, gid \d+, mode [57]55\)/);
  });
});

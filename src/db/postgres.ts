import pg from 'pg';

const INT8_OID = 20;

/**
 * `bigserial` ids and `count(*)` come back from PostgreSQL as int8, which `pg` hands over as
 * strings; the schema says numbers, and ids stay far below 2^53, so parse them. Per pool, not
 * through pg's global type registry, so nothing else in the process is affected.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * A `pg` pool for `postgres://…`; `max` bounds this instance's share of the server's connections.
 * Idle connections stay open: a new server backend costs ~20–30 ms to connect and ~10 ms more for
 * its first queries (catalog caches), and pg's default closed every connection idle for 10 s, so
 * each burst of checks after a quiet spell paid that again on every connection it opened.
 */
export function openPostgresPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types, application_name: 'question-dedup', idleTimeoutMillis: 0 });
  // An idle client losing its server connection emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  return pool;
}

import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * Leases on running groups, so several instances can share one task: the instance that
 * claims a group writes its id and an expiry it keeps renewing; a group whose lease ran out
 * (its instance died) may be claimed again by any instance.
 */
export function leaseMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('dedup_task_groups').addColumn('lease_owner', 'text').execute();
      // ISO 8601 text like every other timestamp: fixed width, so text order is time order.
      await db.schema.alterTable('dedup_task_groups').addColumn('lease_expires_at', 'text').execute();
      if (dialect === 'postgres') {
        // The Socket.IO PostgreSQL adapter keeps events over NOTIFY's 8000-byte limit here.
        await sql`CREATE TABLE IF NOT EXISTS socket_io_attachments (
          id bigserial UNIQUE,
          created_at timestamptz DEFAULT now(),
          payload bytea
        )`.execute(db);
      }
    },
  };
}

import { SqliteDialect, type DatabaseConnection, type Driver, type SqliteDialectConfig, type TransactionSettings } from 'kysely';
import type { WalUpkeep } from './sqlite.ts';

/**
 * Kysely's SQLite dialect, with the WAL's upkeep around each transaction (sqlite.ts,
 * BackgroundCheckpointer): after a commit that leaves a long WAL the background thread copies
 * it back at once, and the next transaction begins only when that is done (awaited, never
 * blocking), so it starts the WAL over instead of growing it until a commit on the main
 * thread must checkpoint. Meanwhile the event loop runs (an import reads and unpacks its next
 * batch), and only this connection's next transaction waits.
 */
export class WalKeepingSqliteDialect extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly wal: WalUpkeep | undefined,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const wal = this.wal;
    if (!wal) return driver;
    const begin = driver.beginTransaction.bind(driver);
    const commit = driver.commitTransaction.bind(driver);
    driver.beginTransaction = async (connection: DatabaseConnection, settings: TransactionSettings) => {
      await wal.ready();
      await begin(connection, settings);
    };
    driver.commitTransaction = async (connection: DatabaseConnection) => {
      await commit(connection);
      wal.committed();
    };
    return driver;
  }
}

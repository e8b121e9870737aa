// Child process for test/logs.test.ts: logs LINES lines through the service's logger, then exits
// at once, after drainLogs unless NO_DRAIN is set.
import { createLogger, drainLogs } from '../../src/logger.ts';

const logger = await createLogger('info', { terminal: false });
const lines = Number(process.env.LINES ?? 1000);
for (let i = 0; i < lines; i++) logger.info({ i }, 'line');
// Every line so far written: the last one is then handed to a write of its own, as a service's
// 'service stopped' after a quiet shutdown.
await Bun.sleep(50);
logger.info('last');
if (process.env.NO_DRAIN !== '1') await drainLogs(logger);
process.exit(0);

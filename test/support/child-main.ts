/**
 * Entry of the service child processes the reliability tests start: the real `main()`
 * (config from the environment, signal handling, graceful close), with the pool's worker
 * file swapped for a fixture when `TEST_WORKER` names one (relative to this folder).
 */
import { main } from '../../src/main.ts';

const worker = process.env.TEST_WORKER;
await main(process.env, worker ? { workerFile: new URL(worker, import.meta.url) } : {});

/**
 * A dispatcher alone in a process of its own (tests/api/webhooks-delivery-crash.test.ts kills it with
 * SIGKILL mid-delivery). DATABASE_URL and the WEBHOOK_* variables configure it; it prints "started".
 */
import { ConfigSchema } from '../../src/config.js';
import { openPostgres } from '../../src/db/client.js';
import { createDispatcher } from '../../src/webhooks/dispatcher/service.js';

const config = ConfigSchema.parse(process.env);
const database = await openPostgres({ url: config.DATABASE_URL!, poolMax: 2 });
const quiet = { info() {}, warn() {}, error() {} };
const dispatcher = createDispatcher({
  db: database.db,
  config,
  logger: quiet,
  leaseMarginMs: Number(process.env.LEASE_MARGIN_MS ?? 10_000),
});
dispatcher.start();
console.log('started');

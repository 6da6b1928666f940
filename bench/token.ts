/**
 * Prints a 4-hour admin bearer token for the bench database's "bench@nysana.test" user (made by
 * `npm run bench`), for profiling a server by hand:
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nysana_bench npx tsx bench/token.ts
 */
import { eq } from 'drizzle-orm';
import { buildApp } from '../src/app.js';
import { ConfigSchema } from '../src/config.js';
import { openPostgres } from '../src/db/client.js';
import { users } from '../src/db/schema.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/nysana_bench';
const database = await openPostgres({ url, poolMax: 2 });
const config = { ...ConfigSchema.parse({ DATABASE_URL: url }), LOG_LEVEL: 'silent' as const };
const app = await buildApp({ db: database.db, config, logger: false });
try {
  await app.ready();
  const [user] = await database.db.select({ id: users.id }).from(users).where(eq(users.email, 'bench@nysana.test'));
  if (!user) throw new Error('no bench user: run npm run bench first');
  const { token } = await app.auth.tokens.sign(
    { kind: 'user', id: user.id, role: 'admin', organizationId: null },
    4 * 3600,
  );
  process.stdout.write(`${token}\n`);
} finally {
  await app.close();
  await database.close();
}

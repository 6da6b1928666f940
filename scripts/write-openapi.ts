/** `npm run openapi:write`: regenerate openapi/openapi.json from the routes' zod schemas. */
import { writeFile } from 'node:fs/promises';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openPglite } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { openApiDocument } from '../src/openapi/document.js';

const database = await openPglite();
await migrate(database);
// The defaults, not this shell's environment: the committed document must not depend on who ran it.
const app = await buildApp({ db: database.db, config: loadConfig({ LOG_LEVEL: 'silent' }), logger: false });
await app.ready();
const target = new URL('../openapi/openapi.json', import.meta.url);
await writeFile(target, openApiDocument(app));
console.log(`wrote ${target.pathname}`);
await app.close();
await database.close();

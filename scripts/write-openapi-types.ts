/** `npm run openapi:types`: regenerate openapi/nysana-api.d.ts from openapi/openapi.json. */
import { writeFile } from 'node:fs/promises';
import { TYPES_FILE, generateOpenApiTypes } from './openapi-types.js';

await writeFile(TYPES_FILE, await generateOpenApiTypes());
console.log(`wrote ${TYPES_FILE.pathname}`);

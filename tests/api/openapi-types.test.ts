import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { TYPES_FILE, generateOpenApiTypes } from '../../scripts/openapi-types.js';

describe('generated client types', () => {
  it('openapi/nysana-api.d.ts equals fresh openapi-typescript output of openapi/openapi.json', async () => {
    const committed = await readFile(TYPES_FILE, 'utf8');
    // On failure: run `npm run openapi:write && npm run openapi:types` and commit the result.
    expect(committed).toBe(await generateOpenApiTypes());
  });
});

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/openapi/document.js';
import { EVENT_TYPES, TEST_EVENT_TYPE } from '../../src/webhooks/catalog.js';
import { call, setupApp } from '../helpers/app.js';

const ctx = setupApp();

describe('OpenAPI document', () => {
  it('is served at /openapi.json without a token and equals the committed openapi/openapi.json', async () => {
    const served = await call(ctx.app, 'GET', '/openapi.json', undefined, { authorization: '' });
    expect(served.status).toBe(200);
    const committed = await readFile(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');
    // On failure: run `npm run openapi:write` and commit the result.
    expect(openApiDocument(ctx.app)).toBe(committed);
    expect(served.body).toEqual(JSON.parse(committed));
  });

  it('gives every operation an operationId, a summary, tags and a 4xx response', () => {
    const doc = ctx.app.swagger() as unknown as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { operationId?: string; summary?: string; tags?: string[]; responses: Record<string, unknown> }>
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, where).toBeTruthy();
        expect(ids.has(op.operationId!), `duplicate operationId at ${where}`).toBe(false);
        ids.add(op.operationId!);
        expect(op.summary, where).toBeTruthy();
        expect(op.tags?.length, where).toBeGreaterThan(0);
        // Probes, the public JWKS and the OAuth metadata answer 200 (or 503) and nothing else: a 4xx would be fiction.
        if (!path.startsWith('/health') && !path.startsWith('/.well-known/'))
          expect(
            Object.keys(op.responses).some((s) => s.startsWith('4')),
            where,
          ).toBe(true);
      }
    }
  });

  it('serves the interactive docs at /docs', async () => {
    const res = await call(ctx.app, 'GET', '/docs/', undefined, { authorization: '' });
    expect(res.status).toBe(200);
    expect(res.raw.headers['content-type']).toMatch(/text\/html/);
  });

  it('publishes every webhook event type under `webhooks`, its body the CloudEvents envelope of that type', () => {
    type Webhook = {
      post: {
        operationId: string;
        parameters: { name: string; in: string }[];
        requestBody: { content: Record<string, { schema: { $ref: string } }> };
      };
    };
    const doc = ctx.app.swagger() as unknown as {
      webhooks: Record<string, Webhook>;
      components: { schemas: Record<string, { properties: { type: { const: string }; data: unknown } }> };
    };
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES, TEST_EVENT_TYPE].sort());
    for (const [type, { post }] of Object.entries(doc.webhooks)) {
      const ref = post.requestBody.content['application/cloudevents+json']!.schema.$ref;
      const schema = doc.components.schemas[ref.replace('#/components/schemas/', '')];
      expect(schema?.properties.type.const, type).toBe(type);
      expect(schema?.properties.data, type).toBeTruthy();
      expect(post.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
        'header:webhook-id',
        'header:webhook-timestamp',
        'header:webhook-signature',
      ]);
    }
  });
});

import type { FastifyInstance } from 'fastify';

/** The served document, serialized the way openapi/openapi.json is committed. */
export function openApiDocument(app: FastifyInstance): string {
  return `${JSON.stringify(app.swagger(), null, 2)}\n`;
}

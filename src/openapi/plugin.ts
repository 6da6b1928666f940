/**
 * The OpenAPI document is generated from the routes' zod schemas (no hand-written copy).
 * openapi/openapi.json is the committed snapshot; a test keeps it equal to what is served.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { access } from '../http/access.js';
import { polishDocument } from './polish.js';
import { webhooksSection } from './webhooks.js';

export const API_DESCRIPTION = `Nysana tracks the target indicators of government strategic plans: organizations, plans,
strategic directions, goals, target indicators and their yearly planned and actual values, with the
achievement status derived on read.

Conventions: JSON bodies with camelCase fields, UUID ids, localized text as { kk, ru, en } with at
least one value, exact decimals sent as JSON numbers, lists as { items, nextCursor } with ?limit=
(default 50, max 500) and ?cursor=, errors as RFC 9457 application/problem+json, writes return the
stored entity with version and the ETag header (send If-Match to refuse stale writes). A query
parameter an operation does not declare answers 400, naming it (query.<name>): typos never pass silently.
Writes and /auth carry RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset, and answer 429 with
Retry-After beyond their limit; reads have no rate limit.

Exact values: a number is stored exactly as written or refused. A JSON number that a double cannot
hold as written (more than 15-17 significant digits, e.g. 0.1000000000000000000001, or beyond its
range, e.g. 1e-400 or 1e400) answers 400 naming the field instead of being rounded; send at most 15
significant digits. Text must be well-formed Unicode (no unpaired surrogate such as \\ud800, no
U+0000), and dates and instants lie in the years 0001..9999: anything else is a 400 naming the field.

Authentication: every /api/v1 operation needs "Authorization: Bearer <access token>" except
/auth/login, /auth/refresh and /auth/token; a personal access token (/me/tokens) works as the bearer
token, or as the password of HTTP Basic for BI tools. People log in with e-mail and password (POST /auth/login)
and renew with the single-use refresh token (POST /auth/refresh); other systems use the OAuth 2.0
client-credentials grant (POST /auth/token) with a client an admin created. Access tokens are JWTs
(EdDSA or ES256, 15 minutes by default) verifiable with the keys at /.well-known/jwks.json.
Roles: admin (everything), editor (writes the plans and measurements of its own organization, reads
all), viewer (reads). Each operation states who may call it. 401 means a missing or invalid token,
403 a role or organization that does not allow the operation; an editor gets 403, never 404, for a
target outside its organization, existing or not.`;

type OpenApiDoc = { components?: { schemas?: Record<string, unknown> } } & Record<string, unknown>;

/**
 * The type provider registers an input and an output variant of every named schema; drop the
 * ones no operation references so client generators and BI tools see only real types.
 */
function withoutUnusedSchemas(doc: OpenApiDoc): OpenApiDoc {
  const schemas = { ...(doc.components?.schemas ?? {}) };
  for (;;) {
    const text = JSON.stringify({ ...doc, components: { ...doc.components, schemas } });
    const unused = Object.keys(schemas).filter((name) => !text.includes(`"#/components/schemas/${name}"`));
    if (unused.length === 0) break;
    for (const name of unused) delete schemas[name];
  }
  return { ...doc, components: { ...doc.components, schemas } };
}

/** x-internal: false and the environment named: the inventory a gateway or API catalogue reads (OWASP API9). */
const THIS_SERVER = { url: '/', description: 'This server (production or local: whichever instance serves this document)', 'x-internal': false };

export async function registerOpenApi(app: FastifyInstance) {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Nysana API',
        version: '1.0.0',
        description: API_DESCRIPTION,
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      },
      servers: [THIS_SERVER],
      tags: [
        { name: 'Organizations', description: 'State bodies' },
        { name: 'Plans', description: 'Strategic plans' },
        { name: 'Directions', description: 'Strategic directions of a plan' },
        { name: 'Goals', description: 'Goals under a direction' },
        { name: 'Indicators', description: 'Target indicators of a goal' },
        { name: 'Measurements', description: 'Yearly plan and fact values' },
        { name: 'Status', description: 'Derived achievement of indicators, goals, directions and plans' },
        { name: 'Import', description: 'Spreadsheet import of plan and fact values (laid out like the official report) and its template' },
        { name: 'Risks', description: 'Risks to goals per year and their mitigation (section 1 of the annual report)' },
        { name: 'Reports', description: 'The annual implementation report in JSON, DOCX, XLSX, CSV and HTML, and its analytical note' },
        { name: 'Approvals', description: 'Approving plan years by order, which locks their values' },
        { name: 'Audit', description: 'Who changed what, when: the audit trail' },
        { name: 'Health', description: 'Liveness and readiness' },
        { name: 'Auth', description: 'Log in, refresh and log out; OAuth 2.0 client credentials for service clients; the JWKS; the caller' },
        { name: 'Users', description: 'People who log in (admins only)' },
        { name: 'Clients', description: 'Service accounts of other systems (admins only)' },
        { name: 'Tokens', description: 'Personal access tokens for BI tools and scripts: Bearer, or HTTP Basic with the token as the password' },
        {
          name: 'Evaluation methods',
          description: 'How plans are scored: degree formula, cap, bands, roll-up and pending treatment; versioned, admin-managed (docs/evaluation-methods.md)',
        },
        {
          name: 'Webhooks',
          description: 'Signed CloudEvents pushed to other systems on change: subscriptions, their secrets and delivery log (docs/webhooks.md)',
        },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'An access token from POST /api/v1/auth/login, /auth/refresh or /auth/token: a JWS (EdDSA or ES256) issued and ' +
              'verified as RFC8725 (JWT best current practices) asks: algorithms pinned (never "none"), issuer, audience and ' +
              'expiry checked. A personal access token (nys_pat_...) is accepted here too.',
          },
          // The same bearer token, described as OAuth 2.0 so client tools can fetch it themselves.
          clientCredentials: {
            type: 'oauth2',
            description:
              'Service clients: client_id and client_secret from an admin (POST /api/v1/clients). The access token is a JWT ' +
              'verified as RFC8725 asks (pinned algorithms, issuer, audience, expiry), valid 15 minutes by default.',
            flows: { clientCredentials: { tokenUrl: '/api/v1/auth/token', scopes: {} } },
          },
          // What BI tools can store: a personal access token as the Basic password (it also works as a bearer token).
          personalAccessToken: {
            type: 'http',
            scheme: 'basic',
            description: 'A personal access token (POST /api/v1/me/tokens) as the password, with any user name.',
          },
        },
      },
      security: [{ bearerAuth: [] }, { clientCredentials: [] }, { personalAccessToken: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) =>
      withoutUnusedSchemas({
        ...polishDocument(jsonSchemaTransformObject(input) as OpenApiDoc),
        webhooks: webhooksSection(),
      }) as never,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { url: '/openapi.json' } as never });
  app.get('/openapi.json', { config: { access: access.public }, schema: { hide: true } }, async () => app.swagger());
}

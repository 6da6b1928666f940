/** Request and response shapes of the personal access token routes (/me/tokens, /clients/{id}/tokens). */
import { z } from 'zod';
import { TOKEN_SCOPES } from '../db/schema.js';
import { Uuid } from '../shared/schemas.js';

export const MAX_TOKEN_DAYS = 366;
export const DEFAULT_TOKEN_DAYS = 90;

export const TokenScope = z.enum(TOKEN_SCOPES).meta({
  id: 'TokenScope',
  description:
    'read: GET and HEAD only (any other method answers 403); read_write: everything the owner may do. ' +
    "Either way the token acts with its owner's current role and organization, never more.",
});
export type TokenScope = z.infer<typeof TokenScope>;

export const PersonalAccessToken = z
  .object({
    id: Uuid,
    name: z.string(),
    scope: TokenScope,
    owner: z
      .object({ kind: z.enum(['user', 'client']), id: Uuid })
      .describe('The user or service client the token acts as.'),
    tokenHint: z
      .string()
      .describe('The first characters of the token, to recognise it; the rest is never shown again.'),
    expiresAt: z.iso.datetime().describe('After this instant the token answers 401.'),
    lastUsedAt: z.iso
      .datetime()
      .nullable()
      .describe('Last request made with the token (recorded at most once a minute).'),
    version: z.number().int().min(1).describe('Sent as the ETag; If-Match on DELETE refuses a stale revocation.'),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'PersonalAccessToken', description: 'A personal access token, without its secret.' });
export type PersonalAccessToken = z.infer<typeof PersonalAccessToken>;

export const PersonalAccessTokenWithSecret = PersonalAccessToken.extend({
  token: z
    .string()
    .describe(
      'Shown only in this response; store it now (only its hash is kept). Send it as "Authorization: Bearer <token>", ' +
        'or as the password of HTTP Basic authentication with any user name.',
    ),
}).meta({ id: 'PersonalAccessTokenWithSecret' });

export const PersonalAccessTokenCreate = z
  .strictObject({
    name: z.string().trim().min(1).max(100).describe('What the token is for, e.g. "Power BI: ministry dashboard".'),
    scope: TokenScope.default('read'),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_TOKEN_DAYS)
      .default(DEFAULT_TOKEN_DAYS)
      .describe(`Days until the token expires, 1..${MAX_TOKEN_DAYS}; default ${DEFAULT_TOKEN_DAYS}.`),
  })
  .meta({ id: 'PersonalAccessTokenCreate' });
export type PersonalAccessTokenCreate = z.infer<typeof PersonalAccessTokenCreate>;

export const ClientTokenParams = z.strictObject({ id: Uuid, tokenId: Uuid });

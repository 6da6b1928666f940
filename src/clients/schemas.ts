/**
 * Service clients: other government systems calling with the OAuth 2.0 client-credentials grant.
 * A client has a role (viewer or editor, never admin) and, for editors, an organization, both set
 * by an admin. Its secret is shown once, in the response that creates or rotates it.
 */
import { z } from 'zod';
import { EntityMeta, Text, Uuid } from '../shared/schemas.js';
import { BooleanQuery } from '../users/schemas.js';
import { tombstoneOf } from '../sync/cursor.js';

export const ClientRole = z.enum(['editor', 'viewer']).describe('Service clients are never admins.');

const Name = Text.trim().min(1).max(200).describe('Which system this is, e.g. "e-Government KPI dashboard".');

export const Client = z
  .object({
    ...EntityMeta,
    clientId: Uuid.describe('The OAuth client_id (equal to id).'),
    name: z.string(),
    role: ClientRole,
    organizationId: Uuid.nullable().describe(
      'Required for editors: the organization whose data the client may change.',
    ),
    active: z.boolean().describe('A deactivated client gets no tokens, and its issued tokens are refused.'),
    lastUsedAt: z.iso.datetime().nullable().describe('When the client last obtained a token.'),
  })
  .meta({ id: 'Client', description: 'A service account of another system.' });
export type Client = z.infer<typeof Client>;

export const ClientWithSecret = Client.extend({
  clientSecret: z.string().describe('Shown only in this response; store it now. Only its hash is kept.'),
}).meta({ id: 'ClientWithSecret' });

/** A deleted client in an incremental sync; it remembers the organization, the one filter it can still answer. */
export const ClientTombstone = tombstoneOf('Client', { organizationId: Uuid.nullable() });

const editorNeedsOrganization = (c: { role?: string; organizationId?: string | null }) =>
  c.role !== 'editor' || !!c.organizationId;

export const ClientCreate = z
  .strictObject({
    name: Name,
    role: ClientRole,
    organizationId: Uuid.nullable().optional(),
    active: z.boolean().default(true),
  })
  .refine(editorNeedsOrganization, { message: 'an editor needs an organization', path: ['organizationId'] });

export const ClientPatch = z
  .strictObject({ name: Name, role: ClientRole, organizationId: Uuid.nullable(), active: z.boolean() })
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' });

export const ClientFilters = z.object({
  role: ClientRole.optional(),
  organizationId: Uuid.optional(),
  active: BooleanQuery,
});

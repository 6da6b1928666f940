/** Users as admins see them. The password is accepted on create and update, never returned. */
import { z } from 'zod';
import { NewPassword, Role } from '../auth/schemas.js';
import { EntityMeta, Text, Uuid } from '../shared/schemas.js';
import { tombstoneOf } from '../sync/cursor.js';

export const Email = Text.trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email())
  .meta({ format: 'email' })
  .describe('Unique, case-insensitive (stored lower-cased); the login name.');

const DisplayName = Text.trim().min(1).max(200);

export const User = z
  .object({
    ...EntityMeta,
    email: z.string().meta({ format: 'email' }),
    displayName: z.string(),
    role: Role,
    organizationId: Uuid.nullable().describe('Required for editors: the organization whose plans they may change.'),
    active: z.boolean().describe('A deactivated user cannot log in, refresh, or use a token already issued.'),
    lastLoginAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'User', description: 'A person who logs in to Nysana.' });
export type User = z.infer<typeof User>;

/** A deleted user in an incremental sync; it remembers the organization, the one filter it can still answer. */
export const UserTombstone = tombstoneOf('User', { organizationId: Uuid.nullable() });

const editorNeedsOrganization = (u: { role?: string; organizationId?: string | null }) =>
  u.role !== 'editor' || !!u.organizationId;
const editorMessage = { message: 'an editor needs an organization', path: ['organizationId'] };

export const UserCreate = z
  .strictObject({
    email: Email,
    displayName: DisplayName,
    role: Role,
    organizationId: Uuid.nullable().optional(),
    password: NewPassword,
    active: z.boolean().default(true),
  })
  .refine(editorNeedsOrganization, editorMessage);

export const UserPatch = z
  .strictObject({
    email: Email,
    displayName: DisplayName,
    role: Role,
    organizationId: Uuid.nullable(),
    password: NewPassword.describe('Sets a new password and ends every session of the user.'),
    active: z.boolean().describe('false ends every session of the user at once.'),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' });

export const BooleanQuery = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();

export const UserFilters = z.object({
  role: Role.optional(),
  organizationId: Uuid.optional(),
  active: BooleanQuery,
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254)
    .meta({ format: 'email' })
    .optional()
    .describe('Exact e-mail address.'),
});

/** Request and response shapes of /auth/*, /me and the JWKS. */
import { z } from 'zod';
import { Text, Uuid } from '../shared/schemas.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js';

export const Role = z.enum(['admin', 'editor', 'viewer']).meta({
  id: 'Role',
  description:
    'admin: everything; editor: writes plans and measurements of its own organization, reads all; viewer: reads.',
});

export const NewPassword = Text.min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH)
  .refine((p) => p.trim().length >= PASSWORD_MIN_LENGTH, {
    message: `at least ${PASSWORD_MIN_LENGTH} characters besides spaces`,
  })
  .describe(`${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters; never returned.`);

const OpaqueToken = z.string().min(1).max(256);

export const LoginBody = z.strictObject({
  // Any string: whether it is an e-mail address is irrelevant to "wrong email or password". The document
  // says what callers should send (format: email); anything else is simply a 401.
  email: z.string().trim().min(1).max(320).meta({ format: 'email' }),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
});

export const TokenPair = z
  .object({
    accessToken: z.string().describe('JWT to send as "Authorization: Bearer ...".'),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().min(0).describe('Seconds until the access token expires.'),
    refreshToken: z.string().describe('Opaque; exchange at /auth/refresh. Single use: each refresh returns a new one.'),
    refreshExpiresIn: z.number().int().min(0).describe('Seconds until the refresh token expires unused.'),
  })
  .meta({ id: 'TokenPair' });

export const RefreshBody = z.strictObject({ refreshToken: OpaqueToken });

export const LogoutBody = z
  .strictObject({
    refreshToken: OpaqueToken.optional().describe("The session's refresh token; its whole family is revoked."),
    allSessions: z.boolean().default(false).describe('Revoke every refresh token of the caller (log out everywhere).'),
  })
  .refine((b) => b.refreshToken !== undefined || b.allSessions, {
    message: 'send refreshToken, or allSessions: true',
    path: ['refreshToken'],
  });

/** RFC 6749 section 4.4.2; unknown parameters are ignored, as section 3.2 requires. */
export const ClientCredentialsRequest = z
  .object({
    grant_type: z.string().max(100).optional().describe('Must be "client_credentials".'),
    client_id: z.string().max(200).optional(),
    client_secret: z
      .string()
      .max(256)
      .optional()
      .describe('Or send client_id and client_secret with HTTP Basic instead.'),
    scope: z.string().max(1000).optional().describe("Ignored: the client's role decides what it may do."),
  })
  .meta({ id: 'ClientCredentialsRequest' });

export const ClientCredentialsResponse = z
  .object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int().min(0) })
  .meta({ id: 'ClientCredentialsResponse' });

export const OAuthError = z
  .object({
    error: z.enum([
      'invalid_request',
      'invalid_client',
      'invalid_grant',
      'unauthorized_client',
      'unsupported_grant_type',
      'invalid_scope',
      'too_many_requests',
      'server_error',
    ]),
    error_description: z.string().optional(),
  })
  .meta({ id: 'OAuthError', description: 'RFC 6749 section 5.2 error response.' });

export const Me = z
  .object({
    kind: z
      .enum(['user', 'client', 'sso'])
      .describe('A user of this service, a service client, or a user of the trusted identity provider.'),
    id: z.string().describe("User or client id; for sso, the provider's subject."),
    role: Role,
    organizationId: Uuid.nullable(),
    email: z.string().meta({ format: 'email' }).nullable(),
    displayName: z.string().nullable().describe("A user's display name or a client's name."),
  })
  .meta({ id: 'Me' });

export const PasswordChange = z.strictObject({
  currentPassword: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  newPassword: NewPassword,
});

export const Jwks = z
  .object({
    keys: z.array(
      z.object({
        kty: z.string(),
        crv: z.string().optional(),
        x: z.string().optional(),
        y: z.string().optional(),
        kid: z.string(),
        alg: z.string(),
        use: z.literal('sig'),
      }),
    ),
  })
  .meta({ id: 'Jwks', description: 'RFC 7517 JSON Web Key Set.' });

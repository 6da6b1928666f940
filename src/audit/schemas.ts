import { z } from 'zod';
import { Instant, ListQuery } from '../shared/schemas.js';

export const AuditEntry = z
  .object({
    id: z.number().int(),
    at: z.iso.datetime(),
    actorType: z.enum(['user', 'client', 'sso', 'system']),
    actorId: z.string().nullable().describe('User or client id; for single sign-on, the identity provider subject.'),
    entityType: z
      .string()
      .describe(
        'organization, plan, direction, goal, indicator, measurement, risk, note, reportSignature, user, client, yearApproval',
      ),
    entityId: z.string(),
    entityKey: z
      .string()
      .nullable()
      .describe('For measurements "<indicatorId>/<year>", stable across delete and re-create.'),
    action: z.enum(['create', 'update', 'delete', 'approve', 'reopen']),
    before: z.record(z.string(), z.unknown()).nullable().describe('The entity as the API showed it before the change.'),
    after: z.record(z.string(), z.unknown()).nullable().describe('The entity as the API shows it after the change.'),
    requestId: z
      .string()
      .nullable()
      .describe(
        "The server's id of the request that made the change (its x-request-id response header; the logs carry it too).",
      ),
    correlationId: z
      .string()
      .nullable()
      .describe(
        "The caller's own x-request-id, when it sent a sane one (letters, digits, . : _ -, at most 128): for matching with the caller's logs, never unique.",
      ),
  })
  .meta({ id: 'AuditEntry', description: 'One recorded change.' });

export const AuditQuery = ListQuery.extend({
  entityType: z.string().max(64).optional(),
  entityId: z.string().max(128).optional(),
  actorId: z.string().max(256).optional(),
  from: Instant.optional().describe('Only changes at or after this instant.'),
  to: Instant.optional().describe('Only changes before this instant.'),
});

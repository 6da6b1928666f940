/** Request and response shapes of /webhooks/subscriptions (issue 20; design in docs/webhooks.md). */
import { z } from 'zod';
import { DELIVERY_STATUSES } from '../../db/schema.js';
import { EntityMeta, Instant, ListQuery, Text, Uuid } from '../../shared/schemas.js';
import { EVENT_TYPES } from '../catalog.js';

export const MAX_URL_LENGTH = 2000;
/** Events one redelivery may queue: a larger backlog is asked for in parts (a later `since`). */
export const MAX_REDELIVER = 10_000;

export const EventType = z.enum(EVENT_TYPES).meta({ id: 'WebhookEventType' });

const EventTypes = z
  .array(EventType)
  .min(1)
  .max(EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, { message: 'event types must not repeat' })
  .describe('The events to receive: a non-empty set of the catalog types, each at most once.');

const Url = Text.trim()
  .min(1)
  .max(MAX_URL_LENGTH)
  .describe(
    `Where deliveries are POSTed, at most ${MAX_URL_LENGTH} characters: https (http only where the server allows it), ` +
      'no credentials or fragment, and a host whose every address is public (checked when saved and again at each delivery).',
  );

const Description = Text.trim().min(1).max(500);

/** What a subscription is made of, once merged (POST body, or PATCH merged onto the stored values). */
export const WebhookSubscriptionValues = z.strictObject({
  url: Url,
  eventTypes: EventTypes,
  organizationId: Uuid.nullable().default(null).describe('Only events of this organization (null: every one).'),
  planId: Uuid.nullable().default(null).describe('Only events of this plan; with organizationId, a plan of it.'),
  description: Description.nullable().default(null),
  enabled: z.boolean().default(true).describe('A disabled subscription keeps its pending deliveries until enabled.'),
});
export type WebhookSubscriptionValues = z.output<typeof WebhookSubscriptionValues>;

export const WebhookSubscriptionCreate = WebhookSubscriptionValues.meta({ id: 'WebhookSubscriptionCreate' });

export const WebhookSubscriptionPatch = z
  .strictObject({
    url: Url.optional(),
    eventTypes: EventTypes.optional(),
    organizationId: Uuid.nullable().optional(),
    planId: Uuid.nullable().optional(),
    description: Description.nullable().optional(),
    enabled: z
      .boolean()
      .optional()
      .describe('true enables it again and clears disabledReason, disabledAt and consecutiveFailures.'),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'send at least one field to change' })
  .meta({ id: 'WebhookSubscriptionPatch' });
export type WebhookSubscriptionPatch = z.output<typeof WebhookSubscriptionPatch>;

export const WebhookSubscription = z
  .object({
    id: Uuid,
    url: z.string(),
    eventTypes: z.array(EventType),
    organizationId: Uuid.nullable(),
    planId: Uuid.nullable(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().describe('Why it was disabled (retries exhausted, or by hand).'),
    disabledAt: z.iso.datetime().nullable(),
    consecutiveFailures: z.number().int().min(0),
    clientId: Uuid.nullable().describe("The service client that owns it; null for an admin's subscription."),
    createdBy: z.object({ kind: z.enum(['user', 'client', 'sso', 'system']), id: z.string().nullable() }),
    previousSecretExpiresAt: z.iso
      .datetime()
      .nullable()
      .describe('After a rotation, the previous secret also signs deliveries until this instant.'),
    version: EntityMeta.version,
    createdAt: EntityMeta.createdAt,
    updatedAt: EntityMeta.updatedAt,
  })
  .meta({ id: 'WebhookSubscription', description: 'A webhook subscription, without its signing secret.' });
export type WebhookSubscription = z.infer<typeof WebhookSubscription>;

export const WebhookSubscriptionWithSecret = WebhookSubscription.extend({
  secret: z
    .string()
    .describe(
      'The Standard Webhooks signing secret ("whsec_" + base64 of 32 bytes). Shown only in this response: store it now.',
    ),
}).meta({ id: 'WebhookSubscriptionWithSecret' });

export const DeliveryStatus = z.enum(DELIVERY_STATUSES).meta({ id: 'WebhookDeliveryStatus' });

export const WebhookDelivery = z
  .object({
    id: z.number().int(),
    eventId: Uuid,
    eventType: z.string(),
    status: DeliveryStatus,
    attempts: z.number().int().min(0),
    nextAttemptAt: z.iso.datetime().nullable().describe('When a pending delivery is tried next; null once finished.'),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    completedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery', description: 'One event to be delivered to the subscription.' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookAttempt = z
  .object({
    id: z.number().int(),
    deliveryId: z.number().int(),
    eventId: Uuid,
    attemptedAt: z.iso.datetime(),
    statusCode: z.number().int().nullable().describe('null when no answer came (refused, timed out).'),
    durationMs: z.number().int().min(0),
    error: z.string().nullable(),
    responsePrefix: z.string().nullable().describe('The first 1 KiB of the response body.'),
  })
  .meta({ id: 'WebhookAttempt', description: 'One attempt to deliver an event.' });
export type WebhookAttempt = z.infer<typeof WebhookAttempt>;

export const DeliveryQuery = ListQuery.extend({
  status: DeliveryStatus.optional(),
  eventId: Uuid.optional(),
});

export const AttemptQuery = ListQuery.extend({ eventId: Uuid.optional() });

export const RedeliverBody = z
  .strictObject({
    eventId: Uuid.optional().describe('Deliver this event again.'),
    since: Instant.optional().describe('Deliver again every event of the subscription from this instant (event time).'),
  })
  .refine((b) => (b.eventId === undefined) !== (b.since === undefined), {
    message: 'send exactly one of eventId and since',
  })
  .meta({ id: 'WebhookRedeliver' });
export type RedeliverBody = z.output<typeof RedeliverBody>;

export const RedeliverAnswer = z
  .object({ count: z.number().int().min(0).describe('New pending deliveries, in commit order of their events.') })
  .meta({ id: 'WebhookRedeliverAnswer' });

export const TestBody = z.strictObject({ message: Text.trim().min(1).max(500).optional() }).meta({ id: 'WebhookTest' });

export const TestAnswer = z.object({ eventId: Uuid, deliveryId: z.number().int() }).meta({ id: 'WebhookTestAnswer' });

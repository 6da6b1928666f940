/**
 * The `webhooks` section of the OpenAPI document (3.1): what Nysana POSTs to a subscription's URL, one
 * entry per event type, with the CloudEvents envelope of src/webhooks/event-schemas.ts as the body, so a
 * receiver's team can generate its types from the same document as the rest of the API.
 */
import { CLOUD_EVENTS } from '../webhooks/event-schemas.js';

const header = (name: string, description: string) => ({
  name,
  in: 'header',
  required: true,
  description,
  schema: { type: 'string' },
});

const HEADERS = [
  header('webhook-id', 'The event id (the body\'s "id"): the same on every attempt, so a receiver can drop duplicates'),
  header('webhook-timestamp', 'Unix seconds when this attempt was signed; refuse ones far from your clock'),
  header(
    'webhook-signature',
    'Standard Webhooks signature: "v1,<base64 HMAC-SHA256 of id.timestamp.body>", one per valid secret (two for 24 h after a rotation), space-separated',
  ),
];

export function webhooksSection() {
  return Object.fromEntries(
    Object.entries(CLOUD_EVENTS).map(([type, event]) => [
      type,
      {
        post: {
          operationId: `receive${event.id}`,
          summary: event.summary,
          description:
            `Sent to each enabled subscription that names \`${type}\` (and whose organization and plan filters match), ` +
            'signed per the Standard Webhooks specification; verify it with their libraries and the whsec_ secret. ' +
            'At least once, in commit order per subscription (docs/webhooks.md).',
          tags: ['Webhooks'],
          security: [],
          parameters: HEADERS,
          requestBody: {
            required: true,
            content: { 'application/cloudevents+json': { schema: { $ref: `#/components/schemas/${event.id}` } } },
          },
          responses: {
            '2XX': { description: 'Delivered. Answer within the response timeout (10 s by default); the body is ignored' },
            '4XX': {
              description:
                'Not delivered (so is any 3xx, 5xx, timeout or refused connection): retried with backoff for 24 hours, then failed and the subscription disabled',
            },
          },
        },
      },
    ]),
  );
}

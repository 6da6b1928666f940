/**
 * HTTP for /webhooks/subscriptions (issue 20): admins manage every subscription, a service client its
 * own. The rules live in service.ts; this file maps requests to it and back (ETag, If-Match, Location).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import { access } from '../../http/access.js';
import { actorOf } from '../../http/actor.js';
import { ifMatchOf, notModified, setEtag } from '../../http/etag.js';
import { NOT_MODIFIED } from '../../http/conditional.js';
import { exactJsonParser } from '../../http/json-body.js';
import { answerList } from '../../http/list-pipeline.js';
import { errorResponses } from '../../http/responses.js';
import { IdParams, ListQuery, listOf } from '../../shared/schemas.js';
import {
  AttemptQuery,
  DeliveryQuery,
  MAX_REDELIVER,
  RedeliverAnswer,
  RedeliverBody,
  TestAnswer,
  TestBody,
  WebhookAttempt,
  WebhookDelivery,
  WebhookSubscription,
  WebhookSubscriptionCreate,
  WebhookSubscriptionPatch,
  WebhookSubscriptionWithSecret,
} from './schemas.js';
import type { SubscriptionConfig } from './service.js';
import { ROTATION_OVERLAP_HOURS, webhookSubscriptionService } from './service.js';

const TAG = 'Webhooks';
const PATH = '/webhooks/subscriptions';
const MERGE_PATCH_TYPE = 'application/merge-patch+json';

const WHO =
  'Admins manage every subscription; a service client (client credentials) manages only its own, and another ' +
  "client's subscription answers 404. Other callers get 403.";

/** Admins, and service clients (the service limits each to its own): refused before the body is read. */
const rule = { config: { access: access.adminOrServiceClient } };

function sendWithSecret(reply: FastifyReply, code: 200 | 201, answer: { dto: WebhookSubscription; secret: string }) {
  setEtag(reply, answer.dto.version);
  reply.header('cache-control', 'no-store');
  return reply.code(code).send({ ...answer.dto, secret: answer.secret });
}

export function webhookSubscriptionRoutes(app: FastifyInstance, db: Db, config: SubscriptionConfig) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = webhookSubscriptionService({ db, config, onQueued: () => app.webhooks?.dispatcher.wake() });

  r.get(PATH, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'listWebhookSubscriptions',
      summary: 'List webhook subscriptions',
      description: `${WHO} Oldest first, cursor-paginated. Secrets are never listed.`,
      querystring: ListQuery,
      response: { 200: listOf(WebhookSubscription), ...errorResponses(400, 401, 403) },
    },
    handler: async (request, reply) => answerList(request, reply, service.list(actorOf(request)), request.query),
  });

  r.post(PATH, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'createWebhookSubscription',
      summary: 'Subscribe a URL to events (the signing secret is shown once)',
      description:
        `${WHO} Events are CloudEvents 1.0 documents POSTed to the URL and signed per the Standard Webhooks ` +
        'specification (webhook-id, webhook-timestamp, webhook-signature) with the secret this answer carries once. ' +
        'The URL is checked now (https, a host whose every address is public) and again at each delivery; a refused ' +
        'URL answers 400 with the reason. It is stored as parsed (WHATWG serialization: tabs and newlines removed, ' +
        'other characters percent-encoded, an IPv4 host dotted). ' +
        'A plan filter must belong to the organization filter when both are given.',
      body: WebhookSubscriptionCreate,
      response: { 201: WebhookSubscriptionWithSecret, ...errorResponses(400, 401, 403, 413, 415) },
    },
    handler: async (request, reply) => {
      const created = await service.create(actorOf(request), request.body);
      reply.header('location', `${request.routeOptions.url}/${created.dto.id}`);
      return sendWithSecret(reply, 201, created);
    },
  });

  r.get(`${PATH}/:id`, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'getWebhookSubscription',
      summary: 'Get a webhook subscription (never its secret)',
      description: WHO,
      params: IdParams,
      response: { 200: WebhookSubscription, 304: NOT_MODIFIED, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const dto = await service.get(actorOf(request), request.params.id);
      setEtag(reply, dto.version);
      if (notModified(request, dto.version)) return reply.code(304).send(null);
      return dto;
    },
  });

  // Its own scope: application/merge-patch+json is parsed (as JSON) for this route only.
  app.register(async (scope) => {
    scope.addContentTypeParser(MERGE_PATCH_TYPE, { parseAs: 'string' }, exactJsonParser(scope));
    scope.withTypeProvider<ZodTypeProvider>().patch(`${PATH}/:id`, {
      ...rule,
      schema: {
        tags: [TAG],
        operationId: 'patchWebhookSubscription',
        summary: 'Change a webhook subscription (JSON merge patch): URL, events, filters, enable or disable',
        description:
          `${WHO} A JSON merge patch (RFC 7396): fields sent replace the stored ones, null clears a filter or the ` +
          'description. enabled: true enables it again and clears disabledReason, disabledAt and consecutiveFailures; ' +
          'its pending deliveries then go out. A new URL is checked as on creation. If-Match refuses a stale change (412).',
        consumes: [MERGE_PATCH_TYPE, 'application/json'],
        params: IdParams,
        body: WebhookSubscriptionPatch,
        response: { 200: WebhookSubscription, ...errorResponses(400, 401, 403, 404, 412, 413, 415) },
      },
      handler: async (request, reply) => {
        const dto = await service.patch(actorOf(request), request.params.id, request.body, ifMatchOf(request));
        setEtag(reply, dto.version);
        return dto;
      },
    });
  });

  r.delete(`${PATH}/:id`, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'deleteWebhookSubscription',
      summary: 'Delete a webhook subscription and its delivery log',
      description: `${WHO} Pending deliveries are dropped. If-Match refuses a stale deletion (412).`,
      params: IdParams,
      response: { 204: z.null().describe('Deleted'), ...errorResponses(400, 401, 403, 404, 412) },
    },
    handler: async (request, reply) => {
      await service.remove(actorOf(request), request.params.id, ifMatchOf(request));
      return reply.code(204).send(null);
    },
  });

  r.post(`${PATH}/:id/rotate-secret`, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'rotateWebhookSecret',
      summary: 'Rotate the signing secret (the new one is shown once)',
      description:
        `${WHO} The previous secret keeps signing beside the new one for ${ROTATION_OVERLAP_HOURS} hours ` +
        '(previousSecretExpiresAt), so a receiver can switch without losing a delivery. If-Match refuses a stale rotation (412).',
      params: IdParams,
      response: { 200: WebhookSubscriptionWithSecret, ...errorResponses(400, 401, 403, 404, 412) },
    },
    handler: async (request, reply) =>
      sendWithSecret(reply, 200, await service.rotateSecret(actorOf(request), request.params.id, ifMatchOf(request))),
  });

  r.get(`${PATH}/:id/deliveries`, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'listWebhookDeliveries',
      summary: "A subscription's deliveries, newest first",
      description: `${WHO} One row per event to deliver (a redelivery is a new row). Filter by status or event.`,
      params: IdParams,
      querystring: DeliveryQuery,
      response: { 200: listOf(WebhookDelivery), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const { status, eventId } = request.query;
      return answerList(
        request,
        reply,
        service.deliveries(actorOf(request), request.params.id, { status, eventId }),
        request.query,
      );
    },
  });

  r.get(`${PATH}/:id/attempts`, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'listWebhookAttempts',
      summary: "A subscription's delivery attempts, newest first",
      description: `${WHO} Each attempt with its status code, duration, error and the first 1 KiB of the answer.`,
      params: IdParams,
      querystring: AttemptQuery,
      response: { 200: listOf(WebhookAttempt), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) =>
      answerList(
        request,
        reply,
        service.attempts(actorOf(request), request.params.id, request.query.eventId),
        request.query,
      ),
  });

  r.post(`${PATH}/:id/redeliver`, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'redeliverWebhookEvents',
      summary: 'Deliver events again: one event, or every event since an instant',
      description:
        `${WHO} Queues new deliveries of events this subscription had deliveries for (eventId: that one, 404 when it ` +
        `had none; since: every one whose time is at or after it, in commit order, at most ${MAX_REDELIVER}, more is a 400). ` +
        'They go out after what is already pending; an event with a delivery still pending is not queued again. ' +
        '202 with how many were queued.',
      params: IdParams,
      body: RedeliverBody,
      response: { 202: RedeliverAnswer, ...errorResponses(400, 401, 403, 404, 413, 415) },
    },
    handler: async (request, reply) => {
      const count = await service.redeliver(actorOf(request), request.params.id, request.body);
      return reply.code(202).send({ count });
    },
  });

  r.post(`${PATH}/:id/test`, {
    ...rule,
    schema: {
      tags: [TAG],
      operationId: 'testWebhookSubscription',
      summary: 'Send a test event to this subscription only',
      description: `${WHO} Queues one kz.nysana.webhook.test event for this subscription (the body, with an optional message, may be left out); 202 with its event and delivery ids.`,
      params: IdParams,
      body: TestBody.nullish(),
      response: { 202: TestAnswer, ...errorResponses(400, 401, 403, 404, 413, 415) },
    },
    handler: async (request, reply) => {
      const answer = await service.test(actorOf(request), request.params.id, request.body?.message);
      return reply.code(202).send(answer);
    },
  });
}

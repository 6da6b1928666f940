/**
 * HTTP for personal access tokens: /me/tokens (a user's own) and /clients/{id}/tokens (admins, for
 * service clients). The rules live in service.ts; this file maps requests to it and back.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../http/actor.js';
import type { AuthService } from '../auth/service.js';
import { access } from '../http/access.js';
import { answerList } from '../http/list-pipeline.js';
import { ifMatchVersion, setEtag } from '../http/etag.js';
import { errorResponses } from '../http/responses.js';
import { IdParams, ListQuery, listOf } from '../shared/schemas.js';
import type { TokenOwner } from './repository.js';
import {
  ClientTokenParams,
  PersonalAccessToken,
  PersonalAccessTokenCreate,
  PersonalAccessTokenWithSecret,
} from './schemas.js';
import type { Actor } from './service.js';
import { MAX_LIVE_TOKENS, PersonalTokenService } from './service.js';

const TAG = 'Tokens';

const USAGE =
  'Send a token as "Authorization: Bearer <token>", or as the password of HTTP Basic authentication with any user name ' +
  "(what Power BI, Excel and most BI tools can store). It acts with its owner's current role and organization; a read " +
  'token only reads. Revoking it, its expiry, or deactivating its owner refuses it from the next request.';

const actorOf = (request: FastifyRequest): Actor => ({ principal: principalOf(request), requestId: request.id });

function sendCreated(reply: FastifyReply, location: string, created: { dto: PersonalAccessToken; token: string }) {
  setEtag(reply, created.dto.version);
  reply.header('location', location);
  reply.header('cache-control', 'no-store');
  return reply.code(201).send({ ...created.dto, token: created.token });
}

export function personalTokenRoutes(app: FastifyInstance, auth: AuthService) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tokens = auth.personalTokens;
  const self = (request: FastifyRequest): TokenOwner => PersonalTokenService.selfOwner(principalOf(request));
  const client = (id: string): TokenOwner => ({ kind: 'client', id });
  const prefix = (request: FastifyRequest) => request.routeOptions.url!.replace(/\/(me|clients)\/.*$/, '');

  // ---- the caller's own ------------------------------------------------------------------------

  r.get('/me/tokens', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'listMyTokens',
      summary: "List the caller's personal access tokens",
      description:
        'Users only. Oldest first, cursor-paginated; expired tokens stay listed until revoked. Secrets are never listed.',
      querystring: ListQuery,
      response: { 200: listOf(PersonalAccessToken), ...errorResponses(400, 401, 403) },
    },
    handler: async (request, reply) => answerList(request, reply, tokens.list(self(request)), request.query),
  });

  r.post('/me/tokens', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'createMyToken',
      summary: 'Create a personal access token (shown once)',
      description:
        `${USAGE} Users only, logged in (a personal access token cannot create tokens). Read-only and 90 days unless asked ` +
        `otherwise; at most ${MAX_LIVE_TOKENS} unexpired tokens per user (409 beyond).`,
      body: PersonalAccessTokenCreate,
      response: { 201: PersonalAccessTokenWithSecret, ...errorResponses(400, 401, 403, 409, 413, 415) },
    },
    handler: async (request, reply) => {
      const created = await tokens.create(actorOf(request), self(request), request.body);
      request.log.info(
        { event: 'personal_token_created', tokenId: created.dto.id, scope: created.dto.scope },
        'personal access token created',
      );
      return sendCreated(reply, `${prefix(request)}/me/tokens/${created.dto.id}`, created);
    },
  });

  r.get('/me/tokens/:id', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'getMyToken',
      summary: "Get one of the caller's personal access tokens",
      description: "Another user's token answers 404, as an unknown id does.",
      params: IdParams,
      response: { 200: PersonalAccessToken, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const dto = await tokens.get(self(request), request.params.id);
      setEtag(reply, dto.version);
      return dto;
    },
  });

  r.delete('/me/tokens/:id', {
    config: { access: access.viewer },
    schema: {
      tags: [TAG],
      operationId: 'revokeMyToken',
      summary: "Revoke one of the caller's personal access tokens",
      description:
        "Its next request answers 401. Another user's token answers 404. Logged in only; If-Match refuses a stale revocation (412).",
      params: IdParams,
      response: { 204: z.null().describe('Revoked'), ...errorResponses(400, 401, 403, 404, 412) },
    },
    handler: async (request, reply) => {
      await tokens.revoke(actorOf(request), self(request), request.params.id, ifMatchVersion(request));
      request.log.info(
        { event: 'personal_token_revoked', tokenId: request.params.id },
        'personal access token revoked',
      );
      return reply.code(204).send(null);
    },
  });

  // ---- a service client's, managed by admins -----------------------------------------------------

  r.get('/clients/:id/tokens', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'listClientTokens',
      summary: "List a service client's personal access tokens",
      description:
        'Oldest first, cursor-paginated; expired tokens stay listed until revoked. An unknown client answers 404.',
      params: IdParams,
      querystring: ListQuery,
      response: { 200: listOf(PersonalAccessToken), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) =>
      answerList(request, reply, tokens.list(client(request.params.id)), request.query),
  });

  r.post('/clients/:id/tokens', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'createClientToken',
      summary: 'Create a personal access token for a service client (shown once)',
      description:
        `${USAGE} For systems that cannot run the client-credentials grant. Logged-in admins only; at most ` +
        `${MAX_LIVE_TOKENS} unexpired tokens per client (409 beyond).`,
      params: IdParams,
      body: PersonalAccessTokenCreate,
      response: { 201: PersonalAccessTokenWithSecret, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const created = await tokens.create(actorOf(request), client(id), request.body);
      request.log.info(
        { event: 'personal_token_created', tokenId: created.dto.id, clientId: id, scope: created.dto.scope },
        'personal access token created',
      );
      return sendCreated(reply, `${prefix(request)}/clients/${id}/tokens/${created.dto.id}`, created);
    },
  });

  r.get('/clients/:id/tokens/:tokenId', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'getClientToken',
      summary: "Get one of a service client's personal access tokens",
      params: ClientTokenParams,
      response: { 200: PersonalAccessToken, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const dto = await tokens.get(client(request.params.id), request.params.tokenId);
      setEtag(reply, dto.version);
      return dto;
    },
  });

  r.delete('/clients/:id/tokens/:tokenId', {
    config: { access: access.admin },
    schema: {
      tags: [TAG],
      operationId: 'revokeClientToken',
      summary: "Revoke a service client's personal access token",
      description: 'Its next request answers 401. If-Match refuses a stale revocation (412).',
      params: ClientTokenParams,
      response: { 204: z.null().describe('Revoked'), ...errorResponses(400, 401, 403, 404, 412) },
    },
    handler: async (request, reply) => {
      const { id, tokenId } = request.params;
      await tokens.revoke(actorOf(request), client(id), tokenId, ifMatchVersion(request));
      request.log.info({ event: 'personal_token_revoked', tokenId, clientId: id }, 'personal access token revoked');
      return reply.code(204).send(null);
    },
  });
}

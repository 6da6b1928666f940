/**
 * Service client writes. The secret is generated here (32 random bytes), shown once, and stored as
 * its sha-256; a rotation replaces it (the old one stops working at once). Deactivation and
 * deletion make this replica forget its cached view of the client, so its tokens are refused from
 * the next request.
 */
import { accountWrites, checkOrganization } from '../accounts/service.js';
import { assertOrganizationExists } from '../accounts/repository.js';
import type { PrincipalDirectory } from '../auth/directory.js';
import { CLIENT_SECRET_PREFIX, newSecret, sha256 } from '../auth/secrets.js';
import type { Db } from '../db/client.js';
import { serviceClients } from '../db/schema.js';
import type { Actor } from '../shared/actor.js';
import { notFound } from '../shared/errors.js';
import type { IfMatch } from '../shared/if-match.js';
import type { ClientRow } from './repository.js';
import { findClient, toClientDto } from './repository.js';
import type { z } from 'zod';
import type { ClientCreate, ClientPatch } from './schemas.js';

/** A stored client and its new secret, which only this answer carries. */
export interface ClientWithSecretRow {
  row: ClientRow;
  clientSecret: string;
}

export function clientService(deps: { db: Db; directory: Pick<PrincipalDirectory, 'invalidate'> }) {
  const { db, directory } = deps;
  const writes = accountWrites({ entityType: 'client', table: serviceClients, toDto: toClientDto });

  return {
    async get(id: string): Promise<ClientRow> {
      const row = await findClient(db, id);
      if (!row) throw notFound('client', id);
      return row;
    },

    async create(actor: Actor, input: z.output<typeof ClientCreate>): Promise<ClientWithSecretRow> {
      const clientSecret = newSecret(CLIENT_SECRET_PREFIX);
      const row = await db.transaction(async (tx) => {
        await assertOrganizationExists(tx, input.organizationId);
        const values = { ...input, organizationId: input.organizationId ?? null, secretHash: sha256(clientSecret) };
        return writes.insert(tx, actor, values);
      });
      return { row, clientSecret };
    },

    async update(actor: Actor, id: string, patch: z.output<typeof ClientPatch>, ifMatch: IfMatch): Promise<ClientRow> {
      const updated = await db.transaction(async (tx) => {
        const current = await writes.lock(tx, id, ifMatch);
        await checkOrganization(tx, { ...current, ...patch }, patch.organizationId);
        return writes.update(tx, actor, current, patch);
      });
      directory.invalidate('client', id);
      return updated;
    },

    /** Access tokens already issued stay valid until they expire; deactivation cuts them off. */
    async rotateSecret(actor: Actor, id: string, ifMatch: IfMatch): Promise<ClientWithSecretRow> {
      const clientSecret = newSecret(CLIENT_SECRET_PREFIX);
      const row = await db.transaction(async (tx) => {
        const current = await writes.lock(tx, id, ifMatch);
        // The secret itself never reaches the audit trail; the fact of the rotation does.
        return writes.update(tx, actor, current, { secretHash: sha256(clientSecret) }, { secretRotated: true });
      });
      return { row, clientSecret };
    },

    async remove(actor: Actor, id: string, ifMatch: IfMatch): Promise<void> {
      await db.transaction(async (tx) => writes.remove(tx, actor, await writes.lock(tx, id, ifMatch)));
      directory.invalidate('client', id);
    },
  };
}

/**
 * The SQL users and service clients share. Both are accounts an admin manages (a role, an
 * organization for editors, an active flag, a version for If-Match); their rows differ, so each
 * feature types them in its own repository (src/users/repository.ts, src/clients/repository.ts)
 * over the generic entity statements of src/crud/repository.ts.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/tx.js';
import { organizations } from '../db/schema.js';
import { invalid } from '../shared/errors.js';

/** Share-locks the named organization (a concurrent delete waits); a missing one is the caller's bad input. */
export async function assertOrganizationExists(tx: Tx | Db, organizationId: string | null | undefined) {
  if (!organizationId) return;
  const found = await tx
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.id, organizationId))
    .for('share');
  if (found.length === 0)
    throw invalid('The organization does not exist.', [
      { path: 'body.organizationId', message: 'unknown organization' },
    ]);
}

/** Report signature writes: the plan-year document service (src/plan-year-documents/) over the signatures' SQL. */
import type { Db } from '../db/client.js';
import { planYearDocumentService } from '../plan-year-documents/service.js';
import { deleteSignature, findSignature, toSignatureDto, upsertSignature } from './signature.js';

export const signatureService = (deps: { db: Db }) =>
  planYearDocumentService(deps, {
    entityType: 'reportSignature',
    missing: (planId, year) => `the report of plan ${planId} for ${year} has no signature block`,
    find: findSignature,
    upsert: upsertSignature,
    remove: deleteSignature,
    toDto: toSignatureDto,
  });

/**
 * The one drizzle schema for both drivers (pg and PGlite). drizzle-kit generates the SQL in
 * migrations/ from this file; never edit applied migrations, generate a new one.
 *
 * Foreign keys are ON DELETE RESTRICT on purpose: a plain DELETE of a parent that still has
 * children fails atomically in the database (mapped to 409), so there is no check-then-delete race.
 * `?cascade=true` deletes descendants bottom-up inside one transaction instead.
 */
import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** `{ kk?, ru?, en? }`: validated by the zod LocalizedText schema before it reaches the table. */
export type LocalizedTextColumn = { kk?: string; ru?: string; en?: string };
export type ApprovalColumn = { document: LocalizedTextColumn; date: string };

const id = () => uuid('id').primaryKey().defaultRandom();
const version = () => integer('version').notNull().default(1);
const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow();
const localized = (name: string) => jsonb(name).$type<LocalizedTextColumn>();
/**
 * Incremental sync (src/sync/): the id of the last transaction that wrote the row, set by the
 * sync_stamp trigger (migration 00xx_sync_triggers) on every insert and update (an indicator's: not
 * on a rewrite of its natural-order key alone, migration 0021). 0 for rows older than the trigger.
 */
const changeXid = () => bigint('change_xid', { mode: 'number' }).notNull().default(0);

/**
 * The API's limits, enforced by the database on every row whichever path writes it (migration
 * 0009_stored_limits defines the nysana_* functions: lengths in UTF-16 units after trimming, as zod counts).
 */
const codeOk = (c: AnyPgColumn) => sql`nysana_code_ok(${c})`;
const localizedOk = (c: AnyPgColumn) => sql`nysana_localized_ok(${c})`;
const positionOk = (c: AnyPgColumn) => sql`${c} between 0 and 1000000`;
const yearOk = (c: AnyPgColumn) => sql`${c} between 1900 and 2200`;
const ISO_DATE = '^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}$';

export const organizations = pgTable(
  'organizations',
  {
    id: id(),
    code: text('code').notNull(),
    name: localized('name').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    changeXid: changeXid(),
  },
  (t) => [
    uniqueIndex('organizations_code_key').on(t.code),
    index('organizations_change_idx').on(t.changeXid, t.id),
    check('organizations_code_check', codeOk(t.code)),
    check('organizations_name_check', localizedOk(t.name)),
  ],
);

export const plans = pgTable(
  'plans',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'restrict' }),
    code: text('code').notNull(),
    title: localized('title').notNull(),
    startYear: integer('start_year').notNull(),
    endYear: integer('end_year').notNull(),
    approval: jsonb('approval').$type<ApprovalColumn>(),
    /** The plan's evaluation method (issue 18); null = the built-in default, today's rule. */
    evaluationMethodId: uuid('evaluation_method_id').references((): AnyPgColumn => evaluationMethods.id, {
      onDelete: 'restrict',
    }),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    changeXid: changeXid(),
  },
  (t) => [
    uniqueIndex('plans_organization_code_key').on(t.organizationId, t.code),
    index('plans_change_idx').on(t.changeXid, t.id),
    index('plans_evaluation_method_idx').on(t.evaluationMethodId),
    check('plans_years_check', sql`${t.startYear} <= ${t.endYear}`),
    check('plans_code_check', codeOk(t.code)),
    check('plans_title_check', localizedOk(t.title)),
    check('plans_year_range_check', sql`${yearOk(t.startYear)} and ${yearOk(t.endYear)}`),
    check('plans_approval_check', sql`${t.approval} is null or nysana_approval_ok(${t.approval})`),
  ],
);

export const directions = pgTable(
  'directions',
  {
    id: id(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'restrict' }),
    code: text('code').notNull(),
    title: localized('title').notNull(),
    position: integer('position').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    changeXid: changeXid(),
  },
  (t) => [
    uniqueIndex('directions_plan_code_key').on(t.planId, t.code),
    index('directions_change_idx').on(t.changeXid, t.id),
    check('directions_code_check', codeOk(t.code)),
    check('directions_title_check', localizedOk(t.title)),
    check('directions_position_check', positionOk(t.position)),
  ],
);

export const goals = pgTable(
  'goals',
  {
    id: id(),
    directionId: uuid('direction_id')
      .notNull()
      .references(() => directions.id, { onDelete: 'restrict' }),
    code: text('code').notNull(),
    title: localized('title').notNull(),
    position: integer('position').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    changeXid: changeXid(),
  },
  (t) => [
    uniqueIndex('goals_direction_code_key').on(t.directionId, t.code),
    index('goals_change_idx').on(t.changeXid, t.id),
    check('goals_code_check', codeOk(t.code)),
    check('goals_title_check', localizedOk(t.title)),
    check('goals_position_check', positionOk(t.position)),
  ],
);

export const indicators = pgTable(
  'indicators',
  {
    id: id(),
    goalId: uuid('goal_id')
      .notNull()
      .references(() => goals.id, { onDelete: 'restrict' }),
    code: text('code').notNull(),
    name: localized('name').notNull(),
    unit: localized('unit').notNull(),
    source: localized('source').notNull(),
    valueType: text('value_type', { enum: ['percent', 'number', 'rank'] }).notNull(),
    betterWhen: text('better_when', { enum: ['higher', 'lower'] }).notNull(),
    group: localized('group'),
    position: integer('position').notNull(),
    /** Weight in weighted roll-ups of evaluation methods (issue 18); 1 unless set. */
    weight: numeric('weight').notNull().default('1'),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    changeXid: changeXid(),
    /**
     * The indicator's place in the natural order of flat status rows (issue 15, migrations 0017 and
     * 0021): plan code, direction position and code, goal position and code, indicator code, codes
     * compared as numbers where they hold digits (1.1.10 after 1.1.9). Written only by database
     * triggers (on the indicator and its goal, direction and plan), never by the API.
     */
    sortKey: text('sort_key').notNull().default(''),
  },
  (t) => [
    uniqueIndex('indicators_goal_code_key').on(t.goalId, t.code),
    index('indicators_change_idx').on(t.changeXid, t.id),
    index('indicators_sort_idx').on(t.sortKey, t.id),
    check('indicators_value_type_check', sql`${t.valueType} in ('percent', 'number', 'rank')`),
    check('indicators_better_when_check', sql`${t.betterWhen} in ('higher', 'lower')`),
    check('indicators_rank_lower_check', sql`${t.valueType} <> 'rank' or ${t.betterWhen} = 'lower'`),
    check('indicators_code_check', codeOk(t.code)),
    check(
      'indicators_text_check',
      sql`${localizedOk(t.name)} and ${localizedOk(t.unit)} and ${localizedOk(t.source)} and (${t.group} is null or ${localizedOk(t.group)})`,
    ),
    check('indicators_position_check', positionOk(t.position)),
    check('indicators_weight_check', sql`${t.weight} >= 0 and ${t.weight} <= 1000000`),
  ],
);

export const measurements = pgTable(
  'measurements',
  {
    id: id(),
    indicatorId: uuid('indicator_id')
      .notNull()
      .references(() => indicators.id, { onDelete: 'restrict' }),
    year: integer('year').notNull(),
    plan: numeric('plan'),
    fact: numeric('fact'),
    ratingSize: integer('rating_size'),
    score: numeric('score'),
    note: localized('note'),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    changeXid: changeXid(),
  },
  (t) => [
    uniqueIndex('measurements_indicator_year_key').on(t.indicatorId, t.year),
    // The year with its change stamps: the export's watermark reads them from the index alone (migration 0020).
    index('measurements_year_change_idx').on(t.year, t.changeXid),
    index('measurements_change_idx').on(t.changeXid, t.id),
    // numeric could hold NaN and +-Infinity, which no rule reads as a number (src/achievement/status-sql.ts).
    check('measurements_plan_finite_check', sql`${t.plan} not in ('NaN', 'Infinity', '-Infinity')`),
    check('measurements_fact_finite_check', sql`${t.fact} not in ('NaN', 'Infinity', '-Infinity')`),
    check('measurements_score_finite_check', sql`${t.score} not in ('NaN', 'Infinity', '-Infinity')`),
    check('measurements_year_check', yearOk(t.year)),
    check(
      'measurements_values_check',
      sql`(${t.plan} is null or ${t.plan} between -1e15 and 1e15) and (${t.fact} is null or ${t.fact} between -1e15 and 1e15) and (${t.score} is null or ${t.score} between -1e15 and 1e15)`,
    ),
    check('measurements_rating_size_check', sql`${t.ratingSize} is null or ${t.ratingSize} between 1 and 100000`),
    check('measurements_note_check', sql`${t.note} is null or ${localizedOk(t.note)}`),
  ],
);

// ---------------------------------------------------------------------------------------------
// The annual implementation report: section 1 (risk management: risks per goal and year) and
// section 3 (the analytical note per plan and year). Section 2 is derived from measurements.

export const RISK_EXECUTION_STATUSES = ['executed', 'not_executed', 'in_progress'] as const;

export const risks = pgTable(
  'risks',
  {
    id: id(),
    goalId: uuid('goal_id')
      .notNull()
      .references(() => goals.id, { onDelete: 'restrict' }),
    year: integer('year').notNull(),
    position: integer('position').notNull(),
    risk: localized('risk').notNull(),
    plannedMeasures: localized('planned_measures').notNull(),
    actualMeasures: localized('actual_measures'),
    executionStatus: text('execution_status', { enum: RISK_EXECUTION_STATUSES }).notNull(),
    note: localized('note'),
    version: version(),
    createdAt: createdAt(),
    changeXid: changeXid(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('risks_goal_year_idx').on(t.goalId, t.year, t.position),
    index('risks_change_idx').on(t.changeXid, t.id),
    check('risks_execution_status_check', sql`${t.executionStatus} in ('executed', 'not_executed', 'in_progress')`),
    check('risks_year_check', yearOk(t.year)),
    check('risks_position_check', positionOk(t.position)),
    check(
      'risks_text_check',
      sql`${localizedOk(t.risk)} and ${localizedOk(t.plannedMeasures)} and (${t.actualMeasures} is null or ${localizedOk(t.actualMeasures)}) and (${t.note} is null or ${localizedOk(t.note)})`,
    ),
  ],
);

/** A block of the analytical note's rich text: validated by the zod NoteBlock schema. */
export type NoteBlockColumn =
  | { type: 'paragraph' | 'heading'; text: LocalizedTextColumn }
  | { type: 'list'; ordered: boolean; items: LocalizedTextColumn[] };

export const analyticalNotes = pgTable(
  'analytical_notes',
  {
    id: id(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'restrict' }),
    year: integer('year').notNull(),
    blocks: jsonb('blocks').$type<NoteBlockColumn[]>().notNull(),
    version: version(),
    createdAt: createdAt(),
    changeXid: changeXid(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('analytical_notes_plan_year_key').on(t.planId, t.year),
    check('analytical_notes_year_check', yearOk(t.year)),
    check(
      'analytical_notes_blocks_check',
      sql`jsonb_typeof(${t.blocks}) = 'array' and jsonb_array_length(${t.blocks}) between 1 and 2000`,
    ),
  ],
);

// ---------------------------------------------------------------------------------------------
// Identity and access. Secrets never sit here in clear: passwords as argon2id PHC strings,
// refresh tokens and client secrets as sha-256 hex of 32 random bytes (high entropy, so a fast
// hash is enough and lets us look them up by hash).

export const ROLES = ['admin', 'editor', 'viewer'] as const;
export const CLIENT_ROLES = ['editor', 'viewer'] as const;

export const users = pgTable(
  'users',
  {
    id: id(),
    /** Stored lower-cased: e-mail addresses compare case-insensitively for login. */
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'restrict' }),
    passwordHash: text('password_hash').notNull(),
    active: boolean('active').notNull().default(true),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true, precision: 3 }),
    /**
     * Raised by every password change (admin reset or POST /me/password). Access tokens carry the
     * value they were issued at (claim `sv`); one carrying a smaller value is refused, so a password
     * change ends the user's access tokens too, on every replica (the per-request state read sees it).
     */
    sessionVersion: integer('session_version').notNull().default(0),
    version: version(),
    createdAt: createdAt(),
    changeXid: changeXid(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    index('users_organization_idx').on(t.organizationId),
    check('users_role_check', sql`${t.role} in ('admin', 'editor', 'viewer')`),
    // An editor without an organization could write nothing; refuse the state instead.
    check('users_editor_organization_check', sql`${t.role} <> 'editor' or ${t.organizationId} is not null`),
    check(
      'users_email_check',
      sql`nysana_utf16_length(${t.email}) between 3 and 254 and ${t.email} = lower(${t.email}) and ${t.email} = nysana_js_trim(${t.email}) and ${t.email} like '%_@_%'`,
    ),
    check('users_display_name_check', sql`nysana_utf16_length(nysana_js_trim(${t.displayName})) between 1 and 200`),
    check('users_session_version_check', sql`${t.sessionVersion} >= 0`),
  ],
);

/** Service accounts of other government systems (OAuth 2.0 client credentials). */
export const serviceClients = pgTable(
  'service_clients',
  {
    id: id(),
    name: text('name').notNull(),
    role: text('role', { enum: CLIENT_ROLES }).notNull(),
    organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'restrict' }),
    secretHash: text('secret_hash').notNull(),
    active: boolean('active').notNull().default(true),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }),
    version: version(),
    createdAt: createdAt(),
    changeXid: changeXid(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('service_clients_secret_hash_key').on(t.secretHash),
    index('service_clients_organization_idx').on(t.organizationId),
    // Service accounts are never admins: administration is a human act.
    check('service_clients_role_check', sql`${t.role} in ('editor', 'viewer')`),
    check('service_clients_editor_organization_check', sql`${t.role} <> 'editor' or ${t.organizationId} is not null`),
    check('service_clients_name_check', sql`nysana_utf16_length(nysana_js_trim(${t.name})) between 1 and 200`),
  ],
);

/**
 * One row per issued refresh token. A login starts a family; each refresh marks its token used
 * and issues the next one in the same family. Presenting a used token again means it was copied:
 * the whole family is revoked.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    /** Absolute end of the login session, carried along the family: rotation cannot extend it. */
    sessionExpiresAt: timestamp('session_expires_at', { withTimezone: true, precision: 3 }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, precision: 3 }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('refresh_tokens_token_hash_key').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
    index('refresh_tokens_expires_idx').on(t.expiresAt),
  ],
);

/**
 * Personal access tokens: long-lived credentials for BI tools and scripts, owned by exactly one
 * user or service client (deleted with it). Only the sha-256 of the token is kept; `tokenHint` is
 * its first characters, to recognise it in a list. Revocation deletes the row.
 */
export const TOKEN_SCOPES = ['read', 'read_write'] as const;

export const personalAccessTokens = pgTable(
  'personal_access_tokens',
  {
    id: id(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    clientId: uuid('client_id').references(() => serviceClients.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    scope: text('scope', { enum: TOKEN_SCOPES }).notNull(),
    tokenHash: text('token_hash').notNull(),
    tokenHint: text('token_hint').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }),
    version: version(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('personal_access_tokens_token_hash_key').on(t.tokenHash),
    index('personal_access_tokens_user_idx').on(t.userId, t.createdAt, t.id),
    index('personal_access_tokens_client_idx').on(t.clientId, t.createdAt, t.id),
    check('personal_access_tokens_scope_check', sql`${t.scope} in ('read', 'read_write')`),
    check('personal_access_tokens_owner_check', sql`num_nonnulls(${t.userId}, ${t.clientId}) = 1`),
  ],
);

/**
 * Access-token signing keys generated by the service itself (when no key is configured), shared by
 * every replica through the database. `privateJwk` is a JWK, or an AES-256-GCM envelope of one
 * when JWT_KEY_ENCRYPTION_SECRET is set. A retired key no longer signs but stays published and
 * verifiable until the tokens it signed have expired.
 */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  privateJwk: jsonb('private_jwk').$type<Record<string, unknown>>().notNull(),
  createdAt: createdAt(),
  retiredAt: timestamp('retired_at', { withTimezone: true, precision: 3 }),
});

// ---------------------------------------------------------------------------------------------
// Data safety.

/**
 * Who changed what, written in the same transaction as the change itself: a rolled-back write
 * leaves no row. `entityKey` names a measurement as "<indicatorId>/<year>" so its history
 * survives delete and re-create (which gives it a new id).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    entityKey: text('entity_key'),
    action: text('action').notNull(),
    before: jsonb('before').$type<Record<string, unknown>>(),
    after: jsonb('after').$type<Record<string, unknown>>(),
    /** The server-generated request id. */
    requestId: text('request_id'),
    /** The caller's x-request-id (migration 0010): a caller chooses it, so it identifies nothing on its own. */
    correlationId: text('correlation_id'),
    /**
     * Incremental sync of the trail (GET /audit?updatedSince=): the inserting transaction's id, like
     * every synced row's stamp. A column default rather than the sync_stamp trigger the other tables
     * have (they are also updated): the trail is insert-only, and a per-row plpgsql call was measurable
     * on bulk writes (1,000 audit rows a batch). Never pass a value: the default is the stamp.
     */
    changeXid: bigint('change_xid', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text)::bigint`),
  },
  (t) => [
    index('audit_log_change_idx').on(t.changeXid, t.id),
    index('audit_log_entity_idx').on(t.entityType, t.entityId, t.id),
    index('audit_log_entity_key_idx').on(t.entityKey, t.id),
    index('audit_log_actor_idx').on(t.actorId, t.id),
    index('audit_log_at_idx').on(t.at),
  ],
);

/**
 * A plan year approved by an order, as the annual report is: while the row exists that year's
 * plan and fact values and risks are locked. Reopening deletes the row (the audit keeps both).
 */
/** The signature block of a plan's annual report for a year: who signs it, and a closing remark. */
export const reportSignatures = pgTable(
  'report_signatures',
  {
    id: id(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'restrict' }),
    year: integer('year').notNull(),
    position: localized('position').notNull(),
    name: localized('name').notNull(),
    remark: localized('remark'),
    editionNotes: localized('edition_notes'),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('report_signatures_plan_year_key').on(t.planId, t.year)],
);

export const yearApprovals = pgTable(
  'year_approvals',
  {
    id: id(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'restrict' }),
    year: integer('year').notNull(),
    document: localized('document').notNull(),
    date: text('date').notNull(),
    approvedBy: text('approved_by'),
    /** The evaluation method version the year was approved with; null = the built-in default. */
    evaluationMethodVersionId: uuid('evaluation_method_version_id').references(
      (): AnyPgColumn => evaluationMethodVersions.id,
      {
        onDelete: 'restrict',
      },
    ),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    changeXid: changeXid(),
  },
  (t) => [
    uniqueIndex('year_approvals_plan_year_key').on(t.planId, t.year),
    index('year_approvals_evaluation_method_version_idx').on(t.evaluationMethodVersionId),
    check('year_approvals_year_check', yearOk(t.year)),
    check('year_approvals_document_check', localizedOk(t.document)),
    check('year_approvals_date_check', sql`${t.date} ~ ${sql.raw(`'${ISO_DATE}'`)}`),
  ],
);

/**
 * Tombstones for incremental sync: one row per deleted planning row or measurement, written by
 * the sync_deleted trigger in the deleting transaction (so cascades and every delete path are
 * covered). `parentId` is the row's parent (plan -> organization, measurement -> indicator);
 * `year` is set for measurements. `planId` is the plan of a deleted risk, looked up when it is deleted
 * (its goal may be deleted in the same cascade), so the plan-wide register can list it.
 * Kept SYNC_TOMBSTONE_RETENTION_DAYS, then pruned (src/sync/retention.ts).
 */
export const syncDeletions = pgTable(
  'sync_deletions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    parentId: uuid('parent_id'),
    year: integer('year'),
    planId: uuid('plan_id'),
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    changeXid: changeXid(),
  },
  (t) => [
    index('sync_deletions_entity_idx').on(t.entityType, t.changeXid, t.entityId),
    index('sync_deletions_parent_idx').on(t.entityType, t.parentId, t.changeXid),
    index('sync_deletions_plan_idx').on(t.entityType, t.planId, t.changeXid),
    index('sync_deletions_deleted_at_idx').on(t.deletedAt),
  ],
);

/**
 * How far tombstones were pruned (one row, id 1): every tombstone with change_xid <= prunedXid or
 * deleted before prunedBefore may be gone, so a sync from before that answers 410 (src/sync/retention.ts).
 */
export const syncHorizon = pgTable(
  'sync_horizon',
  {
    id: integer('id').primaryKey(),
    prunedXid: bigint('pruned_xid', { mode: 'number' }).notNull().default(0),
    prunedBefore: timestamp('pruned_before', { withTimezone: true, precision: 3 }),
  },
  (t) => [check('sync_horizon_single_row', sql`${t.id} = 1`)],
);

export const schema = {
  organizations,
  plans,
  directions,
  goals,
  indicators,
  measurements,
  risks,
  analyticalNotes,
  reportSignatures,
  users,
  serviceClients,
  refreshTokens,
  personalAccessTokens,
  signingKeys,
  auditLog,
  yearApprovals,
  syncDeletions,
  syncHorizon,
};
export type Schema = typeof schema;

/**
 * Evaluation methods (issue 18): `rules` holds the current EvaluationRules (src/achievement/methods.ts);
 * every version, the first included, is also kept immutable in evaluationMethodVersions.
 */
export const evaluationMethods = pgTable(
  'evaluation_methods',
  {
    id: id(),
    code: text('code').notNull(),
    name: localized('name').notNull(),
    rules: jsonb('rules').notNull(),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('evaluation_methods_code_key').on(t.code),
    check('evaluation_methods_code_check', codeOk(t.code)),
    check('evaluation_methods_name_check', localizedOk(t.name)),
  ],
);

/** One immutable version of an evaluation method (what an approved year was scored with). */
export const evaluationMethodVersions = pgTable(
  'evaluation_method_versions',
  {
    id: id(),
    methodId: uuid('method_id')
      .notNull()
      .references(() => evaluationMethods.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    name: localized('name').notNull(),
    rules: jsonb('rules').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('evaluation_method_versions_method_version_key').on(t.methodId, t.version)],
);

// ---------------------------------------------------------------------------------------------
// Webhooks (issue 20, migration 0018; design in docs/webhooks.md). The outbox is the audit trail.

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

export const webhookSubscriptions = pgTable(
  'webhook_subscriptions',
  {
    id: id(),
    /** A service client's own subscription (deleted with it); null when an admin made it. */
    clientId: uuid('client_id').references(() => serviceClients.id, { onDelete: 'cascade' }),
    createdByKind: text('created_by_kind').notNull(),
    createdBy: text('created_by'),
    url: text('url').notNull(),
    description: text('description'),
    eventTypes: text('event_types').array().notNull(),
    /** Filters; plain ids (migration 0019): the subscription outlives a deleted plan and hears its deletion. */
    organizationId: uuid('organization_id'),
    planId: uuid('plan_id'),
    /** "whsec_..." or its AES-256-GCM envelope (JWT_KEY_ENCRYPTION_SECRET); never returned after creation/rotation. */
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, precision: 3 }),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: text('disabled_reason'),
    disabledAt: timestamp('disabled_at', { withTimezone: true, precision: 3 }),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('webhook_subscriptions_client_idx').on(t.clientId),
    check('webhook_subscriptions_event_types_check', sql`cardinality(${t.eventTypes}) between 1 and 50`),
    check('webhook_subscriptions_url_check', sql`length(${t.url}) between 1 and 2000`),
    check(
      'webhook_subscriptions_created_by_kind_check',
      sql`${t.createdByKind} in ('user', 'client', 'sso', 'system')`,
    ),
  ],
);

/** One CloudEvents 1.0 event, made by the relay from a committed audit row (or a test event). */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: id(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    source: text('source').notNull(),
    subject: text('subject'),
    organizationId: uuid('organization_id'),
    planId: uuid('plan_id'),
    auditId: bigint('audit_id', { mode: 'number' }),
    time: timestamp('time', { withTimezone: true, precision: 3 }).notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('webhook_events_seq_key').on(t.seq), index('webhook_events_created_idx').on(t.createdAt)],
);

/** One event to deliver to one subscription; a subscription's deliveries go out one at a time in id order. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => webhookSubscriptions.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id')
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    leaseUntil: timestamp('lease_until', { withTimezone: true, precision: 3 }),
    createdAt: createdAt(),
    completedAt: timestamp('completed_at', { withTimezone: true, precision: 3 }),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
  },
  (t) => [
    index('webhook_deliveries_pending_idx')
      .on(t.subscriptionId, t.id)
      .where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_subscription_idx').on(t.subscriptionId, t.createdAt, t.id),
    index('webhook_deliveries_event_idx').on(t.eventId),
    check('webhook_deliveries_status_check', sql`${t.status} in ('pending', 'succeeded', 'failed')`),
  ],
);

/** The delivery log: one row per attempt, with a short prefix of the response body. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: bigint('delivery_id', { mode: 'number' })
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => webhookSubscriptions.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    attemptedAt: timestamp('attempted_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    error: text('error'),
    responsePrefix: text('response_prefix'),
  },
  (t) => [
    index('webhook_attempts_subscription_idx').on(t.subscriptionId, t.attemptedAt, t.id),
    index('webhook_attempts_delivery_idx').on(t.deliveryId, t.id),
    index('webhook_attempts_attempted_idx').on(t.attemptedAt),
  ],
);

/** The relay's position in the audit trail (one row): every audit row below it became events. */
export const webhookRelay = pgTable(
  'webhook_relay',
  {
    id: integer('id').primaryKey().default(1),
    changeXid: bigint('change_xid', { mode: 'number' }).notNull(),
    auditId: bigint('audit_id', { mode: 'number' }).notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [check('webhook_relay_single_row', sql`${t.id} = 1`)],
);

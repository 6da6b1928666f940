/**
 * Configuration is read from the environment once, validated with zod, and passed down.
 * A bad value stops start-up with a message naming the variable (see formatConfigError).
 */
import { z } from 'zod';
import { KeyError, SIGNING_ALGORITHMS, configuredKeyAlgorithm } from './auth/key-material.js';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const optionalText = z.preprocess(emptyAsUndefined, z.string().min(1).optional());

/** A JSON value in an environment variable, e.g. SSO_ROLE_MAP='{"kpi-admin":"admin"}'. */
const jsonText = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v, ctx) => {
    if (v === '' || v === undefined) return undefined;
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  }, schema.optional());

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const ConfigSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
    /** A streaming replica (hot standby) for the status reads; unset: every read goes to DATABASE_URL. */
    DATABASE_READ_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
    DATA_DIR: z.string().min(1).default('./data'),
    ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.email().optional()),
    ADMIN_PASSWORD: z.preprocess(emptyAsUndefined, z.string().min(12).max(1024).optional()),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DEMO_DATA: z.preprocess(emptyAsUndefined, booleanFlag.optional()),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
    DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
    REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
    /**
     * Streamed exports (CSV/XLSX without ?limit) running at once per process; one more is refused at
     * once with 503 + Retry-After (src/exports/guard.ts).
     */
    EXPORT_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
    /** Connections of the exports' own PostgreSQL pool (per database URL); unset: EXPORT_CONCURRENCY. */
    EXPORT_POOL_MAX: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(200).optional()),
    /** An export whose client takes nothing for this long is cut off and its database connection returned. */
    EXPORT_STALL_TIMEOUT_SECONDS: seconds(1, 3_600, 30),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    /**
     * Spreadsheet imports (POST /plans/{id}/import), checked while the file is read: the unzipped size
     * of the workbook parts read (a CSV: its size), 413 beyond; rows with values, 400 beyond. Together
     * they bound an import's memory and time (a plan has tens to hundreds of indicators).
     */
    IMPORT_MAX_UNCOMPRESSED_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(2 ** 31)
      .default(64 * 1024 * 1024),
    IMPORT_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
    /** Browser origins allowed to call the API (comma-separated, exact); unset: no CORS headers at all. */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.url())),
    /** Writes (POST/PUT/PATCH/DELETE) one caller may make per minute; 0 turns the limit off. */
    WRITE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1_200),
    /**
     * Redis that holds the rate-limit counters (write budget, /auth limits, lockouts), so that every
     * replica counts against one budget, e.g. redis://redis:6379. Unset: counted in each process's memory.
     */
    RATE_LIMIT_REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
    /** Start of every rate-limit key in that Redis (deployments sharing one Redis use different ones). */
    RATE_LIMIT_REDIS_PREFIX: z.string().min(1).max(100).default('nysana:rate:'),
    /**
     * V8's old-generation growth between full collections, in percent of what stayed live (its
     * --heap-growing-percent; 0 leaves V8's own factor, up to 4x). A streamed export promotes most of
     * its rows to the old generation before they die, so under V8's own factor one year's CSV grows
     * the heap to 4x its live data before a collection (docs/benchmarks.md, "Against the targets, 2026-12-07 (second session ...)", Memory).
     * 50 rather than 100 since `npm start` doubles V8's semi-spaces (package.json): the memory the larger
     * young generation keeps is taken back from the old generation's headroom (docs/benchmarks.md, h-feed4).
     */
    HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(300).default(50),
    /** Event-loop delay beyond which requests are shed with 503 + Retry-After instead of queuing. */
    MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
    /** Behind a reverse proxy, take the client address from X-Forwarded-For (rate limits are per IP). */
    TRUST_PROXY: z.preprocess(emptyAsUndefined, booleanFlag.optional()).transform((v) => v ?? false),
    /**
     * The service is reached over HTTPS (TLS here or at a proxy): only then does the CSP ask browsers to
     * upgrade-insecure-requests. Off by default: over plain HTTP that directive makes the browser fetch
     * the /docs assets over https, which nothing answers, and the page stays blank.
     */
    PUBLIC_HTTPS: z.preprocess(emptyAsUndefined, booleanFlag.optional()).transform((v) => v ?? false),
    /**
     * Bearer token that GET /metrics requires (per-route counts, pool state, heap, Node version are
     * not for everyone). Unset: /metrics answers only requests from the loopback address (a scraper
     * on the same host or in the same pod).
     */
    METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16).max(1024).optional()),

    /** Days a deletion's tombstone is kept for incremental sync; older syncs answer 410 (src/sync/retention.ts). */
    SYNC_TOMBSTONE_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(90),
    /** Minutes between tombstone prunes in the server; 0 turns the timer off (then run `npm run sync:prune`). */
    SYNC_PRUNE_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(10_080).default(60),

    /**
     * The status cache (src/status-cache/): plan, indicator and feed-page answers kept in memory and
     * evicted by PostgreSQL notifications. `off` computes every answer (as before issue 21).
     */
    CACHE: z.preprocess(emptyAsUndefined, z.enum(['on', 'off']).default('on')),
    /** Memory the status cache may hold (an estimate of its strings); least recently used answers go first. */
    STATUS_CACHE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 40)
      .default(64 * 1024 * 1024),

    /**
     * Webhooks (src/webhooks/, docs/webhooks.md): `off` stops this process's relay and dispatcher (the API
     * still manages subscriptions; another replica, or a later start, delivers what is pending).
     */
    WEBHOOKS: z.preprocess(emptyAsUndefined, z.enum(['on', 'off']).default('on')),
    /** Allow webhook targets on private, loopback and link-local addresses (tests; an internal network by choice). */
    WEBHOOK_ALLOW_PRIVATE_TARGETS: z.preprocess(emptyAsUndefined, booleanFlag.optional()).transform((v) => v ?? false),
    /** Allow plain http:// webhook targets (tests; never across a network you do not own). */
    WEBHOOK_ALLOW_HTTP: z.preprocess(emptyAsUndefined, booleanFlag.optional()).transform((v) => v ?? false),
    /** How long a delivery is retried (exponential backoff with jitter) before it fails and its subscription is disabled. */
    WEBHOOK_RETRY_HOURS: z.coerce.number().min(0.001).max(168).default(24),
    /** Milliseconds a delivery may take to connect, and again to answer. */
    WEBHOOK_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    WEBHOOK_RESPONSE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Idle poll of the relay and dispatcher; notifications wake them sooner. */
    WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
    /** Deliveries one dispatcher sends at once (each to a different subscription). */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
    /** Days the delivery log (attempts, finished deliveries, their events) is kept. */
    WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),

    // Access tokens (see src/auth/keys.ts for where the signing key comes from).
    JWT_ISSUER: z.string().min(1).default('nysana'),
    JWT_AUDIENCE: z.string().min(1).default('nysana-api'),
    ACCESS_TOKEN_TTL_SECONDS: seconds(60, 86_400, 900),
    /** Idle timeout of a login: a refresh token unused this long expires. */
    REFRESH_TOKEN_TTL_SECONDS: seconds(300, 90 * 86_400, 86_400),
    /** Absolute length of a login session, however often it is refreshed. */
    SESSION_MAX_AGE_SECONDS: seconds(300, 365 * 86_400, 7 * 86_400),
    /** Ed25519 or P-256 private key as PKCS8 PEM or JWK JSON; unset: generated and kept in the database. */
    JWT_PRIVATE_KEY: optionalText,
    /**
     * Algorithm of the access tokens: EdDSA (Ed25519), or ES256 (P-256) for verifiers without Ed25519.
     * Unset: EdDSA for generated keys, the key's own for JWT_PRIVATE_KEY (which must match when set).
     */
    JWT_ALGORITHM: z.preprocess(emptyAsUndefined, z.enum(SIGNING_ALGORITHMS as ['EdDSA', 'ES256']).optional()),
    /** kid of JWT_PRIVATE_KEY; default: its RFC 7638 thumbprint. */
    JWT_KEY_ID: optionalText,
    /** Public keys still accepted after rotating JWT_PRIVATE_KEY: a JWKS `{"keys":[...]}`. */
    JWT_PREVIOUS_PUBLIC_KEYS: jsonText(z.object({ keys: z.array(z.record(z.string(), z.unknown())) })),
    /** Encrypts generated private keys at rest in the database (AES-256-GCM); keep it out of backups. */
    JWT_KEY_ENCRYPTION_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32).optional()),
    /** How long a replica trusts its cached view of a user or client (active, role, organization). */
    PRINCIPAL_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),

    // Rate limits of /auth/* (per process, or shared through RATE_LIMIT_REDIS_URL).
    AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60),
    AUTH_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
    AUTH_LOCKOUT_SECONDS: seconds(1, 86_400, 900),

    // Optional trust of an external identity provider (national SSO); off unless SSO_JWKS_URL is set.
    SSO_JWKS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
    SSO_ISSUER: optionalText,
    SSO_AUDIENCE: optionalText,
    SSO_ALGORITHMS: z
      .string()
      .default('RS256,ES256,EdDSA')
      .transform((v) =>
        v
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']))
          .min(1),
      ),
    /** Claim holding the caller's role(s); dots walk into objects, e.g. realm_access.roles. */
    SSO_ROLE_CLAIM: z.string().min(1).default('roles'),
    /** Maps claim values to roles, e.g. {"kpi-admin":"admin","kpi-editor":"editor"}; unset: values taken literally. */
    SSO_ROLE_MAP: jsonText(z.record(z.string(), z.enum(['admin', 'editor', 'viewer']))),
    /** Claim holding the organization's id or code. */
    SSO_ORGANIZATION_CLAIM: z.string().min(1).default('organization'),
  })
  .superRefine((c, ctx) => {
    const sso = [c.SSO_JWKS_URL, c.SSO_ISSUER, c.SSO_AUDIENCE];
    if (sso.some(Boolean) && !sso.every(Boolean)) {
      for (const key of ['SSO_JWKS_URL', 'SSO_ISSUER', 'SSO_AUDIENCE'] as const) {
        if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when any SSO_* variable is set' });
      }
    }
    if (c.SSO_ISSUER && c.SSO_ISSUER === c.JWT_ISSUER) {
      ctx.addIssue({ code: 'custom', path: ['SSO_ISSUER'], message: 'must differ from JWT_ISSUER' });
    }
    // Each running export may hold one connection for its whole download: fewer would leave an
    // admitted export waiting for a connection (and then failing with a pool timeout).
    if (c.EXPORT_POOL_MAX !== undefined && c.EXPORT_POOL_MAX < c.EXPORT_CONCURRENCY) {
      ctx.addIssue({
        code: 'custom',
        path: ['EXPORT_POOL_MAX'],
        message: `must be at least EXPORT_CONCURRENCY (${c.EXPORT_CONCURRENCY})`,
      });
    }
    if (c.JWT_KEY_ID && !c.JWT_PRIVATE_KEY) {
      ctx.addIssue({ code: 'custom', path: ['JWT_KEY_ID'], message: 'only meaningful with JWT_PRIVATE_KEY' });
    }
    if (c.JWT_PRIVATE_KEY) {
      // Checked here rather than at first use, so a wrong key or algorithm stops start-up by name.
      try {
        configuredKeyAlgorithm(c.JWT_PRIVATE_KEY, c.JWT_ALGORITHM);
      } catch (error) {
        if (!(error instanceof KeyError)) throw error;
        const path = error.message.startsWith('JWT_ALGORITHM') ? 'JWT_ALGORITHM' : 'JWT_PRIVATE_KEY';
        ctx.addIssue({ code: 'custom', path: [path], message: error.message });
      }
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** For entry points (server, CLIs): the configuration, or the invalid variables printed and exit 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

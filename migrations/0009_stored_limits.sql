-- Issue 16: a password change ends the user's access tokens too (src/auth/directory.ts).
ALTER TABLE "users" ADD COLUMN "session_version" integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
-- Issue 16: the database enforces every limit the API's schemas state (src/shared/schemas.ts and each
-- module's schemas.ts), whichever path writes a row (API, import, CLI, SQL): a row the API could not
-- serve can no longer be stored. Lengths count UTF-16 code units, as JavaScript (and so zod) does.
CREATE FUNCTION nysana_utf16_length(s text) RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT char_length(s) + char_length(regexp_replace(s, '[^\U00010000-\U0010FFFF]', '', 'g'))
$$;
--> statement-breakpoint
-- String.prototype.trim's whitespace (what zod's .trim() removes before checking lengths).
CREATE FUNCTION nysana_js_trim(s text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT regexp_replace(s, '^[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$', '', 'g')
$$;
--> statement-breakpoint
-- Code: 1..64 characters after trimming, starting with a letter or digit, then letters, digits, ".", "-",
-- "_" or "/". The letter classes depend on the database's locale, so this checks what is locale-free:
-- no whitespace or control characters, no ASCII punctuation other than those four, none of them first.
CREATE FUNCTION nysana_code_ok(s text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT nysana_utf16_length(nysana_js_trim(s)) BETWEEN 1 AND 64
     AND nysana_js_trim(s) !~ '[\s\u0000-\u001f\u007f-\u009f\u00a0\u2028\u2029\u0021-\u002c\u003a-\u0040\u005b-\u005e\u0060\u007b-\u007e]'
     AND nysana_js_trim(s) !~ '^[._/-]'
$$;
--> statement-breakpoint
-- LocalizedText: an object of kk/ru/en strings, each at most 4000 (after trimming), at least one non-blank.
CREATE FUNCTION nysana_localized_ok(t jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT jsonb_typeof(t) = 'object'
     AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(t) AS k WHERE k NOT IN ('kk', 'ru', 'en'))
     AND NOT EXISTS (
       SELECT 1 FROM jsonb_each(t) AS e
       WHERE jsonb_typeof(e.value) <> 'string' OR nysana_utf16_length(nysana_js_trim(e.value #>> '{}')) > 4000)
     AND EXISTS (SELECT 1 FROM jsonb_each_text(t) AS e WHERE nysana_js_trim(e.value) <> '')
$$;
--> statement-breakpoint
-- A plan's approval: null, or { document: LocalizedText, date: "YYYY-MM-DD" } and nothing else. Never
-- NULL itself (a CHECK passes on NULL): a missing member is false.
CREATE FUNCTION nysana_approval_ok(a jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_typeof(a) = 'null' OR (
    jsonb_typeof(a) = 'object'
    AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(a) AS k WHERE k NOT IN ('document', 'date'))
    AND nysana_localized_ok(a -> 'document')
    AND jsonb_typeof(a -> 'date') = 'string' AND (a ->> 'date') ~ '^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}$'), false)
$$;
--> statement-breakpoint
-- Added NOT VALID, then validated one by one below: a database that already holds a row breaking a
-- limit (written before this migration, e.g. by an import) still migrates, logs a WARNING naming the
-- constraint, and refuses every new violating write; fix the rows, then
-- ALTER TABLE ... VALIDATE CONSTRAINT ... to have the database check the old rows too.
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_code_check" CHECK (nysana_code_ok("code")) NOT VALID,
  ADD CONSTRAINT "organizations_name_check" CHECK (nysana_localized_ok("name")) NOT VALID;
--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_code_check" CHECK (nysana_code_ok("code")) NOT VALID,
  ADD CONSTRAINT "plans_title_check" CHECK (nysana_localized_ok("title")) NOT VALID,
  ADD CONSTRAINT "plans_year_range_check" CHECK ("start_year" BETWEEN 1900 AND 2200 AND "end_year" BETWEEN 1900 AND 2200) NOT VALID,
  ADD CONSTRAINT "plans_approval_check" CHECK ("approval" IS NULL OR nysana_approval_ok("approval")) NOT VALID;
--> statement-breakpoint
ALTER TABLE "directions" ADD CONSTRAINT "directions_code_check" CHECK (nysana_code_ok("code")) NOT VALID,
  ADD CONSTRAINT "directions_title_check" CHECK (nysana_localized_ok("title")) NOT VALID,
  ADD CONSTRAINT "directions_position_check" CHECK ("position" BETWEEN 0 AND 1000000) NOT VALID;
--> statement-breakpoint
ALTER TABLE "goals" ADD CONSTRAINT "goals_code_check" CHECK (nysana_code_ok("code")) NOT VALID,
  ADD CONSTRAINT "goals_title_check" CHECK (nysana_localized_ok("title")) NOT VALID,
  ADD CONSTRAINT "goals_position_check" CHECK ("position" BETWEEN 0 AND 1000000) NOT VALID;
--> statement-breakpoint
ALTER TABLE "indicators" ADD CONSTRAINT "indicators_code_check" CHECK (nysana_code_ok("code")) NOT VALID,
  ADD CONSTRAINT "indicators_text_check" CHECK (
    nysana_localized_ok("name") AND nysana_localized_ok("unit") AND nysana_localized_ok("source")
    AND ("group" IS NULL OR nysana_localized_ok("group"))) NOT VALID,
  ADD CONSTRAINT "indicators_position_check" CHECK ("position" BETWEEN 0 AND 1000000) NOT VALID;
--> statement-breakpoint
ALTER TABLE "measurements" ADD CONSTRAINT "measurements_year_check" CHECK ("year" BETWEEN 1900 AND 2200) NOT VALID,
  ADD CONSTRAINT "measurements_values_check" CHECK (
    ("plan" IS NULL OR "plan" BETWEEN -1e15 AND 1e15) AND ("fact" IS NULL OR "fact" BETWEEN -1e15 AND 1e15)
    AND ("score" IS NULL OR "score" BETWEEN -1e15 AND 1e15)) NOT VALID,
  ADD CONSTRAINT "measurements_rating_size_check" CHECK ("rating_size" IS NULL OR "rating_size" BETWEEN 1 AND 100000) NOT VALID,
  ADD CONSTRAINT "measurements_note_check" CHECK ("note" IS NULL OR nysana_localized_ok("note")) NOT VALID;
--> statement-breakpoint
ALTER TABLE "risks" ADD CONSTRAINT "risks_year_check" CHECK ("year" BETWEEN 1900 AND 2200) NOT VALID,
  ADD CONSTRAINT "risks_position_check" CHECK ("position" BETWEEN 0 AND 1000000) NOT VALID,
  ADD CONSTRAINT "risks_text_check" CHECK (
    nysana_localized_ok("risk") AND nysana_localized_ok("planned_measures")
    AND ("actual_measures" IS NULL OR nysana_localized_ok("actual_measures")) AND ("note" IS NULL OR nysana_localized_ok("note"))) NOT VALID;
--> statement-breakpoint
ALTER TABLE "analytical_notes" ADD CONSTRAINT "analytical_notes_year_check" CHECK ("year" BETWEEN 1900 AND 2200) NOT VALID,
  ADD CONSTRAINT "analytical_notes_blocks_check" CHECK (jsonb_typeof("blocks") = 'array' AND jsonb_array_length("blocks") BETWEEN 1 AND 2000) NOT VALID;
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_email_check" CHECK (
    nysana_utf16_length("email") BETWEEN 3 AND 254 AND "email" = lower("email") AND "email" = nysana_js_trim("email") AND "email" LIKE '%_@_%') NOT VALID,
  ADD CONSTRAINT "users_display_name_check" CHECK (nysana_utf16_length(nysana_js_trim("display_name")) BETWEEN 1 AND 200) NOT VALID,
  ADD CONSTRAINT "users_session_version_check" CHECK ("session_version" >= 0) NOT VALID;
--> statement-breakpoint
ALTER TABLE "service_clients" ADD CONSTRAINT "service_clients_name_check" CHECK (nysana_utf16_length(nysana_js_trim("name")) BETWEEN 1 AND 200) NOT VALID;
--> statement-breakpoint
ALTER TABLE "year_approvals" ADD CONSTRAINT "year_approvals_year_check" CHECK ("year" BETWEEN 1900 AND 2200) NOT VALID,
  ADD CONSTRAINT "year_approvals_document_check" CHECK (nysana_localized_ok("document")) NOT VALID,
  ADD CONSTRAINT "year_approvals_date_check" CHECK ("date" ~ '^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}$') NOT VALID;
--> statement-breakpoint
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN
    SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
    WHERE contype = 'c' AND NOT convalidated AND connamespace = current_schema()::regnamespace
  LOOP
    BEGIN
      EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.tbl, c.conname);
    EXCEPTION WHEN check_violation THEN
      RAISE WARNING 'stored rows of % break % (a limit of the API); new writes are checked, fix the rows and run ALTER TABLE % VALIDATE CONSTRAINT %', c.tbl, c.conname, c.tbl, c.conname;
    END;
  END LOOP;
END
$$;

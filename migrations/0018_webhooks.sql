-- Webhooks (issue 20). The outbox is the audit trail: every write records its audit rows through the
-- one recorder, in the write's own transaction, stamped with the transaction id (change_xid). The relay
-- (src/webhooks/relay) reads committed audit rows in commit order, exactly as incremental sync does
-- (change_xid below pg_snapshot_xmin), turns them into CloudEvents (webhook_events) and fans each out to
-- the matching subscriptions (webhook_deliveries). An event exists if and only if its change committed,
-- and writers pay nothing extra for it.
CREATE TABLE "webhook_subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	-- A service client's own subscription (deleted with the client); null for one made by an admin.
	"client_id" uuid REFERENCES "service_clients"("id") ON DELETE CASCADE,
	"created_by_kind" text NOT NULL,
	"created_by" text,
	"url" text NOT NULL,
	"description" text,
	-- Event types (src/webhooks/catalog.ts); never empty.
	"event_types" text[] NOT NULL,
	-- Optional filters: only events of this organization / plan.
	"organization_id" uuid REFERENCES "organizations"("id") ON DELETE CASCADE,
	"plan_id" uuid REFERENCES "plans"("id") ON DELETE CASCADE,
	-- Standard Webhooks secret ("whsec_" + base64 of 32 random bytes), or an AES-256-GCM envelope of it when
	-- JWT_KEY_ENCRYPTION_SECRET is set. After a rotation the previous secret keeps signing beside the new one
	-- until previous_secret_expires_at, so receivers can switch without losing a delivery.
	"secret" text NOT NULL,
	"previous_secret" text,
	"previous_secret_expires_at" timestamp (3) with time zone,
	"enabled" boolean DEFAULT true NOT NULL,
	"disabled_reason" text,
	"disabled_at" timestamp (3) with time zone,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_subscriptions_event_types_check" CHECK (cardinality("event_types") between 1 and 50),
	CONSTRAINT "webhook_subscriptions_url_check" CHECK (length("url") between 1 and 2000),
	CONSTRAINT "webhook_subscriptions_created_by_kind_check" CHECK ("created_by_kind" in ('user', 'client', 'sso', 'system'))
);
--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_client_idx" ON "webhook_subscriptions" USING btree ("client_id");--> statement-breakpoint
-- One CloudEvents 1.0 event; the envelope is rebuilt from these columns (src/webhooks/catalog.ts).
-- No foreign keys: an event outlives what it describes (a deletion is an event too).
CREATE TABLE "webhook_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	-- Commit order: events are created by the relay in audit commit order, one relay at a time.
	"seq" bigserial NOT NULL,
	"type" text NOT NULL,
	"source" text NOT NULL,
	"subject" text,
	"organization_id" uuid,
	"plan_id" uuid,
	-- The audit row it was made from (null for test events); several events may come from one row.
	"audit_id" bigint,
	"time" timestamp (3) with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_events_seq_key" ON "webhook_events" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "webhook_events_created_idx" ON "webhook_events" USING btree ("created_at");--> statement-breakpoint
-- One event to be delivered to one subscription. Deliveries of a subscription go out one at a time in id
-- order (= commit order of their events): the dispatcher takes only a subscription's lowest pending id.
-- A redelivery is a new row (so the log keeps both).
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subscription_id" uuid NOT NULL REFERENCES "webhook_subscriptions"("id") ON DELETE CASCADE,
	"event_id" uuid NOT NULL REFERENCES "webhook_events"("id") ON DELETE CASCADE,
	-- pending -> succeeded | failed (retries exhausted, or the subscription was disabled meanwhile)
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	-- A dispatcher holds a delivery while it sends it; a crashed dispatcher's lease runs out and the
	-- delivery is sent again (at least once; the receiver drops the duplicate by webhook-id).
	"lease_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (3) with time zone,
	"last_status_code" integer,
	"last_error" text,
	CONSTRAINT "webhook_deliveries_status_check" CHECK ("status" in ('pending', 'succeeded', 'failed'))
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries" USING btree ("subscription_id","id") WHERE "status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_subscription_idx" ON "webhook_deliveries" USING btree ("subscription_id","created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_event_idx" ON "webhook_deliveries" USING btree ("event_id");--> statement-breakpoint
-- The delivery log: one row per attempt. Only a short prefix of the response body is kept.
CREATE TABLE "webhook_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE,
	"subscription_id" uuid NOT NULL REFERENCES "webhook_subscriptions"("id") ON DELETE CASCADE,
	"event_id" uuid NOT NULL,
	"attempted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"status_code" integer,
	"duration_ms" integer NOT NULL,
	"error" text,
	"response_prefix" text
);
--> statement-breakpoint
CREATE INDEX "webhook_attempts_subscription_idx" ON "webhook_attempts" USING btree ("subscription_id","attempted_at","id");--> statement-breakpoint
CREATE INDEX "webhook_attempts_delivery_idx" ON "webhook_attempts" USING btree ("delivery_id","id");--> statement-breakpoint
CREATE INDEX "webhook_attempts_attempted_idx" ON "webhook_attempts" USING btree ("attempted_at");--> statement-breakpoint
-- The relay's position in the audit trail: every audit row below (change_xid, audit_id) has been turned
-- into events. One row; the relay locks it (FOR UPDATE SKIP LOCKED), so one replica relays at a time.
CREATE TABLE "webhook_relay" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"change_xid" bigint NOT NULL,
	"audit_id" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_relay_single_row" CHECK ("id" = 1)
);
--> statement-breakpoint
-- Events start at the upgrade: the trail written before it is history, not news.
INSERT INTO "webhook_relay" ("id", "change_xid") VALUES (1, (pg_current_xact_id()::text)::bigint);
--> statement-breakpoint
-- Wakes the relay of every replica when audit rows commit (one notification per statement; PostgreSQL folds
-- equal notifications of a transaction into one). The relay also polls, so a lost notification only delays.
CREATE FUNCTION nysana_audit_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('nysana_audit', '');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "audit_log_notify" AFTER INSERT ON "audit_log" FOR EACH STATEMENT EXECUTE FUNCTION nysana_audit_notify();

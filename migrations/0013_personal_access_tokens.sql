-- Personal access tokens (issue 15): named, expiring, revocable credentials a user (or an admin for
-- a service client) creates for BI tools and scripts, sent as a bearer token or as the password of
-- HTTP Basic. Only the sha-256 of the token is stored (32 random bytes: a fast hash is enough and
-- lets the request find its row through the unique index). Exactly one owner; deleting the user or
-- client deletes its tokens. Revoking deletes the row (the audit trail keeps the record).
CREATE TABLE "personal_access_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid,
	"client_id" uuid,
	"name" text NOT NULL,
	"scope" text NOT NULL,
	"token_hash" text NOT NULL,
	"token_hint" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"last_used_at" timestamp (3) with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "personal_access_tokens_scope_check" CHECK ("personal_access_tokens"."scope" in ('read', 'read_write')),
	CONSTRAINT "personal_access_tokens_owner_check" CHECK (num_nonnulls("personal_access_tokens"."user_id", "personal_access_tokens"."client_id") = 1)
);
--> statement-breakpoint
ALTER TABLE "personal_access_tokens" ADD CONSTRAINT "personal_access_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "personal_access_tokens" ADD CONSTRAINT "personal_access_tokens_client_id_service_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."service_clients"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "personal_access_tokens_token_hash_key" ON "personal_access_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "personal_access_tokens_user_idx" ON "personal_access_tokens" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "personal_access_tokens_client_idx" ON "personal_access_tokens" USING btree ("client_id","created_at","id");

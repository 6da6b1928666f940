-- The audit trail is insert-only: its change stamp (the inserting transaction's id, as
-- nysana_sync_stamp() sets it) is now the column default, and the per-row trigger goes. Bulk writes
-- insert 1,000 audit rows a batch, and the plpgsql call per row was measurable. nysana_sync_stamp()
-- itself stays: the other synced tables (updated too, where a default does not apply) still use it.
ALTER TABLE "audit_log" ALTER COLUMN "change_xid" SET DEFAULT (pg_current_xact_id()::text)::bigint;--> statement-breakpoint
DROP TRIGGER audit_log_sync_stamp ON audit_log;

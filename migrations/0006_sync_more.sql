ALTER TABLE "analytical_notes" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "risks" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "service_clients" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "change_xid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- The same sync stamps and tombstones as 0005 for risks, analytical notes, users and service clients.
CREATE TRIGGER risks_sync_stamp BEFORE INSERT OR UPDATE ON risks FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER risks_sync_deleted AFTER DELETE ON risks FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('risk', 'goal_id');
--> statement-breakpoint
CREATE TRIGGER analytical_notes_sync_stamp BEFORE INSERT OR UPDATE ON analytical_notes FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER analytical_notes_sync_deleted AFTER DELETE ON analytical_notes FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('note', 'plan_id');
--> statement-breakpoint
CREATE TRIGGER users_sync_stamp BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER users_sync_deleted AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('user', 'organization_id');
--> statement-breakpoint
CREATE TRIGGER service_clients_sync_stamp BEFORE INSERT OR UPDATE ON service_clients FOR EACH ROW EXECUTE FUNCTION nysana_sync_stamp();
--> statement-breakpoint
CREATE TRIGGER service_clients_sync_deleted AFTER DELETE ON service_clients FOR EACH ROW EXECUTE FUNCTION nysana_sync_deleted('client', 'organization_id');

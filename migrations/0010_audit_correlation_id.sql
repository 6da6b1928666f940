-- The audit trail's request_id is the server's own id from now on; the caller's x-request-id, which
-- any caller may choose (and so make its entries share an id with another's), is kept apart.
ALTER TABLE "audit_log" ADD COLUMN "correlation_id" text;

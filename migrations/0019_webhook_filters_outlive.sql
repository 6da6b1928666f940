-- A subscription filtered to a plan or an organization outlives it (issue 20 review): with ON DELETE CASCADE it
-- vanished with the plan, leaving no audit row, and never received the plan's own deletion events. The filter
-- is now a plain id: the subscription hears the deletion, then nothing more, and stays for its owner to see
-- (and delete) in the list. The service checks that the plan or organization exists when the filter is set.
ALTER TABLE "webhook_subscriptions" DROP CONSTRAINT "webhook_subscriptions_organization_id_fkey";--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" DROP CONSTRAINT "webhook_subscriptions_plan_id_fkey";

-- The streamed status export's ETag watermark (src/status/watermark.ts) sums and maxes change_xid over a year's
-- and the year before's measurements before the first byte is sent. With the year alone in the index that was a
-- bitmap heap scan of 200,000 rows at 1M measurements (the largest statement before the first byte); with
-- change_xid in the key it is an index-only scan. Writes pay nothing extra: every write stamps change_xid, which
-- measurements_change_idx already indexes, so no update of a measurement was HOT anyway, and this index replaces the
-- year's (it serves every read by year the old one did).
CREATE INDEX "measurements_year_change_idx" ON "measurements" USING btree ("year","change_xid");--> statement-breakpoint
DROP INDEX "measurements_year_idx";

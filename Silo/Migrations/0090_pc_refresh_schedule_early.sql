-- When a connection's refresh may start ahead of its plan (due_at). A silo's scheduler takes the due rows
-- first and fills its free refresh slots with rows whose early_at has passed, so a wave of tokens coming
-- due faster than a silo refreshes (a million connections registered within minutes) is worked off ahead
-- of time instead of piling up behind it. NULL: not before due_at (rows written before this migration).
ALTER TABLE pc_refresh_schedule ADD COLUMN IF NOT EXISTS early_at timestamptz;

CREATE INDEX IF NOT EXISTS pc_refresh_schedule_early ON pc_refresh_schedule (early_at);

-- When each active connection's access token is next due for refresh: one row per connection instead
-- of one Orleans reminder per connection (the reminder service keeps every reminder of its range in
-- memory and registers each with several queries). Each silo's scheduler claims the rows that are due
-- (FOR UPDATE SKIP LOCKED, pushing due_at one lease ahead) and wakes only those connections; the
-- connection writes its next due time after each refresh, or deletes its row when it stops refreshing.
CREATE TABLE IF NOT EXISTS pc_refresh_schedule
(
    connection_id text        NOT NULL,
    due_at        timestamptz NOT NULL,

    CONSTRAINT pc_refresh_schedule_pk PRIMARY KEY (connection_id)
);

CREATE INDEX IF NOT EXISTS pc_refresh_schedule_due ON pc_refresh_schedule (due_at);

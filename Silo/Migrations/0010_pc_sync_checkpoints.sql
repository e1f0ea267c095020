-- Where a running sync stands: written in the same transaction as the records of the pages it
-- covers, so a resumed sync starts exactly after the last stored page (never before, never past it).
-- One row per connection; the grain's own state says whether a run is going and which.
CREATE TABLE IF NOT EXISTS pc_sync_checkpoints
(
    connection_id text        NOT NULL,
    run_id        text        NOT NULL,
    sequence      bigint      NOT NULL,       -- grows within a run: an older write never overwrites a newer one
    checkpoint    jsonb       NOT NULL,       -- the sync grain's progress (steps, next links, tallies)
    written_at    timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT pc_sync_checkpoints_pk PRIMARY KEY (connection_id)
);

-- The patient history (GET /v1/patients/{patient_id}/events) reads the webhook outbox: one row per
-- event, written with the state change that caused it, so the history and the webhook stream cannot
-- disagree. These columns give each event its patient and its before/after; history-only events
-- (connection.refreshed, records.sync.started) are stored with deliver = false and fanned_out_at set,
-- so the dispatcher never sends them.
ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS patient_id          text    NULL;
ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS patient_session_id  text    NULL;
ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS connection_id       text    NULL;
ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS status_before       text    NULL;
ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS status_after        text    NULL;
ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS failure_code        text    NULL;
ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS failure_description text    NULL;
ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS deliver             boolean NOT NULL DEFAULT true;

-- Events stored before this migration: their patient and ids from the payload (the object as GET
-- returns it); their status before is unknown. Re-running finds nothing left to fill.
UPDATE pc_webhook_outbox
SET patient_id = payload -> 'data' ->> 'patient_id',
    patient_session_id = CASE WHEN aggregate_id LIKE 'ps\_%' THEN aggregate_id END,
    connection_id = CASE WHEN aggregate_id LIKE 'conn\_%' THEN aggregate_id ELSE payload -> 'data' ->> 'connection_id' END,
    status_after = CASE WHEN event_type LIKE 'records.sync.%' THEN payload -> 'data' -> 'sync' ->> 'status' ELSE payload -> 'data' ->> 'status' END,
    failure_code = CASE WHEN event_type LIKE 'records.sync.%' THEN NULL
                        ELSE coalesce(payload -> 'data' ->> 'failure_code', payload -> 'data' ->> 'error') END
WHERE patient_id IS NULL;

-- The history's keyset: one tenant's patient, newest first (by outbox id, the order events were stored).
CREATE INDEX IF NOT EXISTS pc_webhook_outbox_patient_history
    ON pc_webhook_outbox (tenant_id, patient_id, id DESC);

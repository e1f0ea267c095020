-- Connections by status, cluster-wide, for the patientconnect_connections gauge. A connection's state
-- lives in its grain (JSON in orleansstorage), which cannot be counted cheaply at a million rows; every
-- status change already writes an event to pc_webhook_outbox in the same step (the outbox is the one
-- source of truth for the history and the webhooks), so the database keeps this projection from those
-- rows: one row per connection, its latest status. Nothing reads it but the gauge.
CREATE TABLE IF NOT EXISTS pc_connection_status
(
    connection_id text        NOT NULL,
    tenant_id     text        NOT NULL,
    status        text        NOT NULL,
    outbox_id     bigint      NOT NULL,          -- the event that set it: a later event always wins
    changed_at    timestamptz NOT NULL,

    CONSTRAINT pc_connection_status_pk PRIMARY KEY (connection_id)
);

CREATE INDEX IF NOT EXISTS pc_connection_status_by_status ON pc_connection_status (status);

CREATE OR REPLACE FUNCTION pc_connection_status_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pc_connection_status (connection_id, tenant_id, status, outbox_id, changed_at)
    VALUES (NEW.connection_id, NEW.tenant_id, NEW.status_after, NEW.id, NEW.created_at)
    ON CONFLICT (connection_id) DO UPDATE
        SET status = EXCLUDED.status, outbox_id = EXCLUDED.outbox_id, changed_at = EXCLUDED.changed_at
        WHERE pc_connection_status.outbox_id < EXCLUDED.outbox_id;
    RETURN NULL;
END;
$$;

-- Only events about a connection's own status (connection.*); records.sync.* carry the sync's status.
DROP TRIGGER IF EXISTS pc_connection_status_follow ON pc_webhook_outbox;
CREATE TRIGGER pc_connection_status_follow
    AFTER INSERT ON pc_webhook_outbox
    FOR EACH ROW
    WHEN (NEW.connection_id IS NOT NULL AND NEW.event_type LIKE 'connection.%'
          AND NEW.status_after IN ('active', 'failed', 'refresh_failed', 'disconnected'))
    EXECUTE FUNCTION pc_connection_status_follow();

-- Connections whose events were stored before this migration: their latest event. Re-running changes nothing.
INSERT INTO pc_connection_status (connection_id, tenant_id, status, outbox_id, changed_at)
SELECT DISTINCT ON (connection_id) connection_id, tenant_id, status_after, id, created_at
FROM pc_webhook_outbox
WHERE connection_id IS NOT NULL AND event_type LIKE 'connection.%'
  AND status_after IN ('active', 'failed', 'refresh_failed', 'disconnected')
ORDER BY connection_id, id DESC
ON CONFLICT (connection_id) DO NOTHING;

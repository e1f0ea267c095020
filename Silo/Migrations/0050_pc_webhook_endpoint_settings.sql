-- Webhook endpoints done properly: an event-type filter, enable/disable, secret rotation with an
-- overlap, and replays. Re-runnable.
--   event_types: NULL = every type; otherwise the types this endpoint receives (fan-out filters on it).
--   enabled: a disabled endpoint gets no new deliveries and its pending ones wait until it is enabled.
--   previous_secret_*: the secret replaced by the last rotation, still signing (next to the new one)
--     until previous_secret_expires_at, so a receiver holding either verifies every event.
ALTER TABLE pc_webhook_endpoints ADD COLUMN IF NOT EXISTS event_types               text[]      NULL;
ALTER TABLE pc_webhook_endpoints ADD COLUMN IF NOT EXISTS enabled                   boolean     NOT NULL DEFAULT true;
ALTER TABLE pc_webhook_endpoints ADD COLUMN IF NOT EXISTS updated_at                timestamptz NULL;
ALTER TABLE pc_webhook_endpoints ADD COLUMN IF NOT EXISTS previous_secret_protected text        NULL;
ALTER TABLE pc_webhook_endpoints ADD COLUMN IF NOT EXISTS previous_secret_expires_at timestamptz NULL;
ALTER TABLE pc_webhook_endpoints ADD COLUMN IF NOT EXISTS secret_rotated_at         timestamptz NULL;

-- A replayed delivery's retry window counts from the replay, not from the (possibly old) event.
ALTER TABLE pc_webhook_deliveries ADD COLUMN IF NOT EXISTS replayed_at timestamptz NULL;

-- The replay's scan: a tenant's delivered-kind events since a time.
CREATE INDEX IF NOT EXISTS pc_webhook_outbox_tenant_replay
    ON pc_webhook_outbox (tenant_id, created_at, id)
    WHERE deliver;

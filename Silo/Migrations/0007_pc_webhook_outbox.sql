-- Webhook events waiting for delivery. The event is written in the same step as the state change
-- that caused it, so it survives a crash; a deliverer then works through due rows.
CREATE TABLE IF NOT EXISTS pc_webhook_outbox
(
    id               bigserial   NOT NULL,
    tenant_id        text        NOT NULL,
    event_id         text        NOT NULL,          -- evt_…, the webhook-id header
    event_type       text        NOT NULL,          -- e.g. patient_session.completed
    aggregate_id     text        NOT NULL,          -- the ps_… / conn_… the event is about
    payload          jsonb       NOT NULL,          -- the event body as delivered
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- delivery
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz NULL,              -- a deliverer's lease on the row
    last_attempt_at  timestamptz NULL,
    last_status_code integer     NULL,
    last_error       text        NULL,
    delivered_at     timestamptz NULL,
    failed_at        timestamptz NULL,              -- gave up after the retry window

    CONSTRAINT pc_webhook_outbox_pk PRIMARY KEY (id),
    CONSTRAINT pc_webhook_outbox_event_uq UNIQUE (event_id)
);

-- The deliverer's scan: undelivered rows by due time.
CREATE INDEX IF NOT EXISTS pc_webhook_outbox_due
    ON pc_webhook_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE INDEX IF NOT EXISTS pc_webhook_outbox_tenant
    ON pc_webhook_outbox (tenant_id, created_at);

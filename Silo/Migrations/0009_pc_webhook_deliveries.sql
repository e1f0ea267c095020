-- Webhook endpoints per tenant and the delivery of each outbox event to each endpoint.
-- The outbox (0007) holds one row per event, written with the state change; the dispatcher fans each
-- event out to the tenant's endpoints (one pc_webhook_deliveries row each) and marks it fanned_out_at.
CREATE TABLE IF NOT EXISTS pc_webhook_endpoints
(
    id               text        NOT NULL,          -- whe_…
    tenant_id        text        NOT NULL,
    url              text        NOT NULL,
    secret_protected text        NOT NULL,          -- whsec_… under AES-256-GCM (TokenProtector), bound to the id
    created_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz NULL,

    CONSTRAINT pc_webhook_endpoints_pk PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS pc_webhook_endpoints_tenant
    ON pc_webhook_endpoints (tenant_id, created_at)
    WHERE deleted_at IS NULL;

ALTER TABLE pc_webhook_outbox ADD COLUMN IF NOT EXISTS fanned_out_at timestamptz NULL;

CREATE INDEX IF NOT EXISTS pc_webhook_outbox_unfanned
    ON pc_webhook_outbox (id)
    WHERE fanned_out_at IS NULL;

CREATE TABLE IF NOT EXISTS pc_webhook_deliveries
(
    id               bigserial   NOT NULL,
    outbox_id        bigint      NOT NULL,          -- event order: deliveries of one aggregate go out by it
    endpoint_id      text        NOT NULL,
    tenant_id        text        NOT NULL,
    event_id         text        NOT NULL,
    event_type       text        NOT NULL,
    aggregate_id     text        NOT NULL,
    created_at       timestamptz NOT NULL,          -- the event's creation: the retry window counts from it
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz NULL,              -- a dispatcher's lease while it sends
    last_attempt_at  timestamptz NULL,
    last_status_code integer     NULL,
    last_error       text        NULL,
    delivered_at     timestamptz NULL,
    failed_at        timestamptz NULL,

    CONSTRAINT pc_webhook_deliveries_pk PRIMARY KEY (id),
    CONSTRAINT pc_webhook_deliveries_uq UNIQUE (endpoint_id, event_id)
);

-- The head of each (endpoint, aggregate) queue: the oldest undelivered row.
CREATE INDEX IF NOT EXISTS pc_webhook_deliveries_open
    ON pc_webhook_deliveries (endpoint_id, aggregate_id, outbox_id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE INDEX IF NOT EXISTS pc_webhook_deliveries_endpoint
    ON pc_webhook_deliveries (endpoint_id, id);

CREATE TABLE IF NOT EXISTS pc_webhook_attempts
(
    id           bigserial   NOT NULL,
    delivery_id  bigint      NOT NULL,
    attempted_at timestamptz NOT NULL,
    status_code  integer     NULL,
    error        text        NULL,
    duration_ms  integer     NOT NULL,

    CONSTRAINT pc_webhook_attempts_pk PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS pc_webhook_attempts_delivery
    ON pc_webhook_attempts (delivery_id, id);

-- FHIR resources fetched from a connection's source, stored as the source sent them.
-- A record is keyed by (tenant, connection, resourceType, id): a later sync overwrites it in place
-- (INSERT ... ON CONFLICT DO UPDATE), never duplicates it.
CREATE TABLE IF NOT EXISTS pc_records
(
    tenant_id     text        NOT NULL,
    connection_id text        NOT NULL,
    resource_type text        NOT NULL,
    resource_id   text        NOT NULL,
    patient_id    text        NOT NULL,
    last_updated  timestamptz NULL,       -- meta.lastUpdated when the source sends it
    sync_run      text        NULL,       -- the sync that last wrote the row
    resource      jsonb       NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT pc_records_pk PRIMARY KEY (tenant_id, connection_id, resource_type, resource_id)
);

-- GET /v1/patients/{patient_id}/records pages by keyset over (resource_type, connection_id,
-- resource_id) within a tenant's patient; the same index serves the ?type= filter.
CREATE INDEX IF NOT EXISTS pc_records_patient_page
    ON pc_records (tenant_id, patient_id, resource_type, connection_id, resource_id);

-- Patient sessions in a table of their own: the session grain's state (the same JSON the generic grain
-- storage wrote) beside the columns the hot paths query. One row per session and one write per create:
--   * a patient's list is this table's keyset (tenant, patient, created_at DESC, session_id DESC), read
--     without activating a grain per listed session and without a per-patient list rewritten whole;
--   * due_at is the durable schedule that replaced the per-session expiry reminder: expires_at while
--     the session is open, a retry time while a finished callback or its events still have work to do,
--     NULL otherwise. Every silo's SessionScheduler claims due rows (FOR UPDATE SKIP LOCKED) and wakes
--     their grains, so a restart loses no expiry (see Grains/Sessions/SessionScheduler.cs).
CREATE TABLE IF NOT EXISTS pc_patient_sessions
(
    session_id  text        NOT NULL,
    tenant_id   text        NOT NULL,
    patient_id  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    status      smallint    NOT NULL,       -- SessionStatus: 0 open, 1 complete, 2 expired
    due_at      timestamptz NULL,
    version     integer     NOT NULL,       -- the grain storage's etag: a write from a stale activation loses
    state       bytea       NOT NULL,       -- PatientSessionState as the silo's grain storage serializer writes it
    modified_at timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT pc_patient_sessions_pk PRIMARY KEY (session_id)
);

CREATE INDEX IF NOT EXISTS pc_patient_sessions_by_patient
    ON pc_patient_sessions (tenant_id, patient_id, created_at DESC, session_id DESC);

CREATE INDEX IF NOT EXISTS pc_patient_sessions_due
    ON pc_patient_sessions (due_at) WHERE due_at IS NOT NULL;

-- Sessions the generic grain storage held before this migration (state name "session", plain JSON with
-- the enum as its number): copied with their columns, and due at once so the scheduler settles each one
-- (expires it, or finds nothing to do). Their old expiry reminders, if they still fire, only wake the
-- grain once more. Re-running copies nothing twice.
INSERT INTO pc_patient_sessions (session_id, tenant_id, patient_id, created_at, expires_at, status, due_at, version, state, modified_at)
SELECT s.session_id,
       s.doc ->> 'TenantId',
       s.doc ->> 'PatientId',
       (s.doc ->> 'CreatedAt')::timestamptz,
       (s.doc ->> 'ExpiresAt')::timestamptz,
       CASE s.doc ->> 'Status' WHEN '1' THEN 1 WHEN 'Complete' THEN 1 WHEN '2' THEN 2 WHEN 'Expired' THEN 2 ELSE 0 END,
       now(),
       1,
       s.payloadbinary,
       s.modifiedon
FROM (
    SELECT substring(o.grainidextensionstring FROM 'ps_[a-z2-7]{32}') AS session_id,
           convert_from(o.payloadbinary, 'UTF8')::jsonb AS doc,
           o.payloadbinary,
           o.modifiedon
    FROM orleansstorage o
    WHERE o.graintypestring = 'session' AND o.payloadbinary IS NOT NULL
) s
WHERE s.session_id IS NOT NULL AND s.doc ->> 'TenantId' IS NOT NULL
ON CONFLICT (session_id) DO NOTHING;

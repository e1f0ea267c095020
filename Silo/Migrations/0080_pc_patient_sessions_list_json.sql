-- A patient's list reads each session's JSON from its row instead of deserializing its whole state:
-- list_json is the session object's contract JSON from return_url on (Grains/Sessions/SessionListJson.cs),
-- written by every statement that writes the row's state, so it is as current as the state. The list puts
-- id, patient_id, status (computed from the clock: an open session past expires_at shows expired) and url
-- (PublicBaseUrl is configuration) in front at read time. Rows written before this migration have NULL
-- here and are listed from their state until their next write.
ALTER TABLE pc_patient_sessions ADD COLUMN IF NOT EXISTS list_json bytea NULL;

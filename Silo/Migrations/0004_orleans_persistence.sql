-- Orleans ADO.NET grain storage (provider "store"). One row per grain state, versioned for
-- optimistic concurrency: a write carries the version it read and fails when another write won.
-- Grains are located by hash (indexed) and then matched on the full id, type and service.
-- Orleans 10.4.2 binds the state as @PayloadBinary only (its serializer, System.Text.Json here,
-- produces the bytes); the PayloadJson / PayloadXml parameters of pre-7.0 scripts are not bound
-- and must not appear in the queries.
CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamp    NOT NULL,
    Version                integer      NULL
);

CREATE INDEX IF NOT EXISTS ix_orleansstorage ON OrleansStorage USING btree (GrainIdHash, GrainTypeHash);

-- Returns the new version on success and the unchanged version (or NULL for a first write)
-- when the write lost: Orleans turns an unchanged version into an InconsistentStateException.
CREATE OR REPLACE FUNCTION writetostorage(
    _grainidhash            integer,
    _grainidn0              bigint,
    _grainidn1              bigint,
    _graintypehash          integer,
    _graintypestring        varchar,
    _grainidextensionstring varchar,
    _serviceid              varchar,
    _grainstateversion      integer,
    _payloadbinary          bytea)
  RETURNS TABLE(newgrainstateversion integer) AS
$func$
DECLARE
    _newgrainstateversion integer := _grainstateversion;
    _rows integer := 0;
BEGIN
    IF _grainstateversion IS NOT NULL THEN
        -- The state was read before: update only the version that was read.
        UPDATE OrleansStorage
        SET PayloadBinary = _payloadbinary,
            ModifiedOn = (now() AT TIME ZONE 'utc'),
            Version = Version + 1
        WHERE GrainIdHash = _grainidhash AND _grainidhash IS NOT NULL
          AND GrainTypeHash = _graintypehash AND _graintypehash IS NOT NULL
          AND GrainIdN0 = _grainidn0 AND _grainidn0 IS NOT NULL
          AND GrainIdN1 = _grainidn1 AND _grainidn1 IS NOT NULL
          AND GrainTypeString = _graintypestring AND _graintypestring IS NOT NULL
          AND GrainIdExtensionString IS NOT DISTINCT FROM _grainidextensionstring
          AND ServiceId = _serviceid AND _serviceid IS NOT NULL
          AND Version IS NOT NULL AND Version = _grainstateversion;

        GET DIAGNOSTICS _rows = ROW_COUNT;
        IF _rows > 0 THEN
            _newgrainstateversion := _grainstateversion + 1;
        END IF;
    ELSE
        -- First write of this grain: insert only when no row exists yet (two activations of the
        -- same grain during a split brain must not both create it).
        INSERT INTO OrleansStorage
            (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
             ServiceId, PayloadBinary, ModifiedOn, Version)
        SELECT
            _grainidhash, _grainidn0, _grainidn1, _graintypehash, _graintypestring, _grainidextensionstring,
            _serviceid, _payloadbinary, (now() AT TIME ZONE 'utc'), 1
        WHERE NOT EXISTS
        (
            SELECT 1 FROM OrleansStorage
            WHERE GrainIdHash = _grainidhash AND _grainidhash IS NOT NULL
              AND GrainTypeHash = _graintypehash AND _graintypehash IS NOT NULL
              AND GrainIdN0 = _grainidn0 AND _grainidn0 IS NOT NULL
              AND GrainIdN1 = _grainidn1 AND _grainidn1 IS NOT NULL
              AND GrainTypeString = _graintypestring AND _graintypestring IS NOT NULL
              AND GrainIdExtensionString IS NOT DISTINCT FROM _grainidextensionstring
              AND ServiceId = _serviceid AND _serviceid IS NOT NULL
        );

        GET DIAGNOSTICS _rows = ROW_COUNT;
        IF _rows > 0 THEN
            _newgrainstateversion := 1;
        END IF;
    END IF;

    RETURN QUERY SELECT _newgrainstateversion AS newgrainstateversion;
END
$func$ LANGUAGE plpgsql;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    'WriteToStorageKey', '
    SELECT * FROM writetostorage(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
        @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
'),
(
    -- Column order matters to the provider: the payload, then a timestamp, then the version.
    'ReadFromStorageKey', '
    SELECT PayloadBinary, (now() AT TIME ZONE ''utc''), Version
    FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND @GrainIdHash IS NOT NULL
      AND GrainTypeHash = @GrainTypeHash AND @GrainTypeHash IS NOT NULL
      AND GrainIdN0 = @GrainIdN0 AND @GrainIdN0 IS NOT NULL
      AND GrainIdN1 = @GrainIdN1 AND @GrainIdN1 IS NOT NULL
      AND GrainTypeString = @GrainTypeString AND @GrainTypeString IS NOT NULL
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND ServiceId = @ServiceId AND @ServiceId IS NOT NULL;
'),
(
    -- Clearing keeps the row (with a bumped version) so a later first write cannot race a stale one.
    'ClearStorageKey', '
    UPDATE OrleansStorage
    SET PayloadBinary = NULL,
        Version = Version + 1
    WHERE GrainIdHash = @GrainIdHash AND @GrainIdHash IS NOT NULL
      AND GrainTypeHash = @GrainTypeHash AND @GrainTypeHash IS NOT NULL
      AND GrainIdN0 = @GrainIdN0 AND @GrainIdN0 IS NOT NULL
      AND GrainIdN1 = @GrainIdN1 AND @GrainIdN1 IS NOT NULL
      AND GrainTypeString = @GrainTypeString AND @GrainTypeString IS NOT NULL
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND ServiceId = @ServiceId AND @ServiceId IS NOT NULL
      AND Version IS NOT NULL AND Version = @GrainStateVersion AND @GrainStateVersion IS NOT NULL
    RETURNING Version AS NewGrainStateVersion;
'),
(
    -- Used instead of ClearStorageKey when a storage is configured with DeleteStateOnClear.
    'DeleteStorageKey', '
    DELETE FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND @GrainIdHash IS NOT NULL
      AND GrainTypeHash = @GrainTypeHash AND @GrainTypeHash IS NOT NULL
      AND GrainIdN0 = @GrainIdN0 AND @GrainIdN0 IS NOT NULL
      AND GrainIdN1 = @GrainIdN1 AND @GrainIdN1 IS NOT NULL
      AND GrainTypeString = @GrainTypeString AND @GrainTypeString IS NOT NULL
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND ServiceId = @ServiceId AND @ServiceId IS NOT NULL
      AND Version IS NOT NULL AND Version = @GrainStateVersion AND @GrainStateVersion IS NOT NULL
    RETURNING Version + 1 AS NewGrainStateVersion;
')
ON CONFLICT (QueryKey) DO NOTHING;

-- Orleans ADO.NET: the query catalogue. Every Orleans provider (clustering, storage, reminders)
-- loads its SQL from this table by key at start-up, so the provider code never embeds SQL.
-- Orleans reads columns by name: keep QueryKey / QueryText as they are.
CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL,
    QueryText varchar(8000) NOT NULL,

    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);

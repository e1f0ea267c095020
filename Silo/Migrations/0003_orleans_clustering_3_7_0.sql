-- Orleans ADO.NET clustering, the 3.7.0 addition: defunct silo clean-up. Without this query the
-- 10.4.2 clustering provider refuses to start ("Not all required queries found").
-- It removes rows of silos that stopped heart-beating before @IAmAliveTime, keeping rows of
-- silos that are still Active (status 3) so a live silo is never deleted by a slow clock.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    'CleanupDefunctSiloEntriesKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
      AND IAmAliveTime < @IAmAliveTime
      AND Status != 3;
')
ON CONFLICT (QueryKey) DO NOTHING;

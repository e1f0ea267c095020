-- The status projection (0070) follows status changes only: an event that leaves a connection's status as
-- it was (connection.refreshed, connection.expiring: active before and after) changes nothing in it, so
-- its row is no longer rewritten once per token refresh. A connection's first event (no status before)
-- and every change still set it, each later one winning by outbox id as before.
DROP TRIGGER IF EXISTS pc_connection_status_follow ON pc_webhook_outbox;
CREATE TRIGGER pc_connection_status_follow
    AFTER INSERT ON pc_webhook_outbox
    FOR EACH ROW
    WHEN (NEW.connection_id IS NOT NULL AND NEW.event_type LIKE 'connection.%'
          AND NEW.status_after IN ('active', 'failed', 'refresh_failed', 'disconnected')
          AND NEW.status_before IS DISTINCT FROM NEW.status_after)
    EXECUTE FUNCTION pc_connection_status_follow();

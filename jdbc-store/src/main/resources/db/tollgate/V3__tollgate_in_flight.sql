-- A maximum of requests in flight at once (io.tollgate.Metric#IN_FLIGHT) beside the token and request maximums; 0 means
-- no such limit, as for the rows written before this column existed. In-flight counters have no window and are never
-- snapshotted: they live with the leases of the requests that hold them.
ALTER TABLE tollgate_rate_limit
    ADD COLUMN in_flight_max BIGINT NOT NULL DEFAULT 0 AFTER request_window_id;

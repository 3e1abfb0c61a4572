-- Whether a rate limit's token and request limits, or a budget, are marked for leased admission (see
-- io.tollgate.Limit#leased): a store that offers it may admit them from slices a replica holds. Rows written before
-- this column existed are not marked.
ALTER TABLE tollgate_rate_limit
    ADD COLUMN leased BOOLEAN NOT NULL DEFAULT FALSE AFTER in_flight_max;
ALTER TABLE tollgate_budget
    ADD COLUMN leased BOOLEAN NOT NULL DEFAULT FALSE AFTER window_id;

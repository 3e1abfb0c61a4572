-- A usage snapshot keeps the latest value of its counter and window, not the highest: a charge that gives back a
-- reservation's estimate lowers a counter, and a restore must not bring the estimate back. "Latest" is the version
-- the store handed out with the value (io.tollgate.spi.CounterSnapshot#version): of two values of one counter and
-- window, the one with the higher version was read later, whichever replica flushed it and whenever its write lands.
-- Rows written before this column existed have version 0 and are overwritten by the next flush of their counter.
ALTER TABLE tollgate_usage_snapshot
    ADD COLUMN version BIGINT NOT NULL DEFAULT 0 AFTER amount;

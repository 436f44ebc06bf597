-- Lineage and queue order of runs (issue 14). rerun_of: the run whose config a rerun repeats
-- (cleared when that run is deleted). queued_at: when the run last joined a queue (stored, and again
-- on every resume), so that a list shows queued runs in the order a host runs them, not by id.
ALTER TABLE runs ADD COLUMN rerun_of INTEGER REFERENCES runs(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN queued_at INTEGER;
UPDATE runs SET queued_at = created_at;

-- Runs trained elsewhere (a Slurm cluster) and merged into this history. A run's uuid is the key a
-- sync matches on, so a second sync adds nothing; origin says where it ran. Local runs keep NULLs.
ALTER TABLE runs ADD COLUMN uuid TEXT;
ALTER TABLE runs ADD COLUMN origin TEXT;        -- 'slurm' for synced runs, NULL for local ones
ALTER TABLE runs ADD COLUMN origin_node TEXT;   -- the compute node's host name
ALTER TABLE runs ADD COLUMN origin_job TEXT;    -- Slurm's id of the array task, e.g. "1234_5"
CREATE UNIQUE INDEX runs_uuid ON runs(uuid) WHERE uuid IS NOT NULL;

-- Cluster jobs submitted from (or synced into) this data folder: where their job folder is.
CREATE TABLE cluster_jobs (
  uuid           TEXT    PRIMARY KEY,
  name           TEXT    NOT NULL,
  job_dir        TEXT    NOT NULL,
  scheduler      TEXT    NOT NULL DEFAULT 'slurm',
  experiment_id  INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
  created_at     INTEGER NOT NULL,
  synced_at      INTEGER
);

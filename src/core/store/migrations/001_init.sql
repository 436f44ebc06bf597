-- Initial schema. Metric columns are REAL; non-finite values are stored as the TEXT 'NaN',
-- 'Infinity' or '-Infinity' (SQLite would turn a bound NaN into NULL) and decoded on read.
CREATE TABLE datasets (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT    NOT NULL UNIQUE,
  format        TEXT    NOT NULL,
  source_path   TEXT,
  content_hash  TEXT,
  class_names   TEXT    NOT NULL,   -- JSON array of strings
  input_shape   TEXT    NOT NULL,   -- JSON [h, w, c]
  counts        TEXT    NOT NULL,   -- JSON { train, test, ... }
  cache_path    TEXT,
  created_at    INTEGER NOT NULL
);

CREATE TABLE experiments (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT    NOT NULL,
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id),
  plan        TEXT    NOT NULL,     -- JSON of the resolved plan
  created_at  INTEGER NOT NULL
);

CREATE TABLE runs (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id         INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
  dataset_id            INTEGER NOT NULL REFERENCES datasets(id),
  model                 TEXT    NOT NULL,
  variant               TEXT    NOT NULL,
  seed                  INTEGER NOT NULL,
  config                TEXT    NOT NULL,   -- JSON of the resolved RunConfig
  status                TEXT    NOT NULL CHECK (status IN
                          ('queued','running','completed','failed','cancelled','interrupted')),
  failure_reason        TEXT,
  backend               TEXT,
  device                TEXT,
  teacher_run_id        INTEGER REFERENCES runs(id),
  teacher_checkpoint_id INTEGER REFERENCES checkpoints(id),
  epochs_planned        INTEGER NOT NULL,
  best_epoch            INTEGER,
  best_val_accuracy     REAL,
  test_accuracy         REAL,
  test_loss             REAL,
  created_at            INTEGER NOT NULL,
  started_at            INTEGER,
  finished_at           INTEGER
);
CREATE INDEX runs_experiment ON runs(experiment_id);
CREATE INDEX runs_status ON runs(status);

CREATE TABLE epoch_metrics (
  run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch           INTEGER NOT NULL,
  train_loss      REAL,
  train_accuracy  REAL,
  val_loss        REAL,
  val_accuracy    REAL,
  learning_rate   REAL,
  duration_ms     REAL,
  samples_per_sec REAL,
  PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch       INTEGER NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind IN ('epoch','best','final','snapshot')),
  path        TEXT    NOT NULL,
  bytes       INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX checkpoints_run ON checkpoints(run_id, epoch);

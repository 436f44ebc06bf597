-- Imported ONNX teachers (`tfkd teachers import`): the file (a copy in the data folder), its hash
-- and source, the preprocessing that maps the dataset's pixels to its input, and its accuracy on
-- the dataset's test split. Runs refer to a teacher by id in their config (importedTeacher), with
-- the hash copied there, so a run's lineage survives the teacher's deletion.
CREATE TABLE onnx_teachers (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  name             TEXT    NOT NULL,
  dataset_id       INTEGER NOT NULL REFERENCES datasets(id),
  path             TEXT    NOT NULL,
  source_path      TEXT    NOT NULL,
  sha256           TEXT    NOT NULL,
  bytes            INTEGER NOT NULL,
  producer         TEXT    NOT NULL,
  preprocessing    TEXT    NOT NULL,   -- JSON TeacherPreprocessing
  test_accuracy    REAL    NOT NULL,
  test_count       INTEGER NOT NULL,
  chance_accuracy  REAL    NOT NULL,
  near_chance      INTEGER NOT NULL CHECK (near_chance IN (0, 1)),
  eval_device      TEXT    NOT NULL,
  eval_ms          REAL    NOT NULL,
  created_at       INTEGER NOT NULL
);
CREATE INDEX onnx_teachers_dataset ON onnx_teachers(dataset_id);

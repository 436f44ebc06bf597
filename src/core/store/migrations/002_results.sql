-- Roles in an experiment plan, user tags, the full end-of-run evaluation, extra per-epoch metrics.
ALTER TABLE runs ADD COLUMN role TEXT NOT NULL DEFAULT 'student' CHECK (role IN ('student', 'teacher'));
ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';      -- JSON array of strings
ALTER TABLE runs ADD COLUMN result TEXT;                          -- JSON RunResultDetails (may hold "NaN" markers)
ALTER TABLE epoch_metrics ADD COLUMN val_top5 REAL;
ALTER TABLE epoch_metrics ADD COLUMN val_ece REAL;
ALTER TABLE experiments ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled'));

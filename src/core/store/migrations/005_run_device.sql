-- The device a run really trained on (JSON RunDevice: backend, gpu/cpu, GPU name or CPU model,
-- threads), and host settings such as the folders of CUDA libraries set in the Settings view.
ALTER TABLE runs ADD COLUMN device_info TEXT;
CREATE TABLE app_settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL   -- JSON
) WITHOUT ROWID;

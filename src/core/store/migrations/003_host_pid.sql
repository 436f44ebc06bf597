-- The host process that drives a running run. Several hosts (the app, a CLI run, a web host) share
-- one data folder: at start-up a host marks as interrupted only runs whose host is gone.
ALTER TABLE runs ADD COLUMN host_pid INTEGER;

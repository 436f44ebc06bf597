import init from './001_init.sql'
import results from './002_results.sql'
import hostPid from './003_host_pid.sql'
import runDevice from './005_run_device.sql'
import cluster from './006_cluster.sql'
import onnxTeachers from './007_onnx_teachers.sql'
import runLineage from './009_run_lineage.sql'

/** One schema change: `id` is its file name without `.sql`, stable forever once released. */
export interface Migration {
  readonly id: string
  readonly sql: string
}

/**
 * The migrations in the order they apply, which is the order of their ids. The ids applied to a
 * database are recorded in its `schema_migrations` table (see ../migrate.ts). A new migration takes
 * the next free number and goes at the end; test/core/store/migrations.test.ts checks that this list
 * names every .sql file in this folder.
 */
export const MIGRATIONS: readonly Migration[] = [
  { id: '001_init', sql: init },
  { id: '002_results', sql: results },
  { id: '003_host_pid', sql: hostPid },
  { id: '005_run_device', sql: runDevice },
  { id: '006_cluster', sql: cluster },
  { id: '007_onnx_teachers', sql: onnxTeachers },
  { id: '009_run_lineage', sql: runLineage },
]

/**
 * Before migrations were recorded by id, a database's `PRAGMA user_version` counted the files
 * applied, in this order. Frozen: a database at user_version k has applied the first k of these.
 */
export const LEGACY_COUNTED: readonly string[] = [
  '001_init',
  '002_results',
  '003_host_pid',
  '005_run_device',
  '006_cluster',
  '007_onnx_teachers',
  '009_run_lineage',
]

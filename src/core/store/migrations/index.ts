import init from './001_init.sql'
import results from './002_results.sql'
import hostPid from './003_host_pid.sql'
import runDevice from './005_run_device.sql'
import cluster from './006_cluster.sql'
import onnxTeachers from './007_onnx_teachers.sql'
import runLineage from './009_run_lineage.sql'

/** Ordered migrations; the database's `user_version` is the number of migrations applied. */
export const MIGRATIONS: readonly { name: string; sql: string }[] = [
  { name: '001_init', sql: init },
  { name: '002_results', sql: results },
  { name: '003_host_pid', sql: hostPid },
  { name: '005_run_device', sql: runDevice },
  { name: '006_cluster', sql: cluster },
  { name: '007_onnx_teachers', sql: onnxTeachers },
  { name: '009_run_lineage', sql: runLineage },
]

/**
 * Tests that need a part of the system outside npm (Chromium, Slurm, PyTorch, ...) call
 * `needsSystemPart` at collection time. Where the part is missing they are skipped with a message
 * naming the install command, so `npm test` passes on a fresh developer machine; under `CI=true`,
 * where `.ci/run` installs every part, a missing part is an error instead of a silent skip.
 */
export interface SystemPart {
  /** What is missing, in words: "Chromium at /usr/bin/chromium". */
  readonly name: string
  /** Whether the part is usable on this machine. */
  readonly isPresent: boolean
  /** The command that installs it: "apt-get install -y chromium". */
  readonly install: string
}

/** True when the tests should be skipped; throws under CI=true when the part is missing. */
export function needsSystemPart(part: SystemPart): boolean {
  if (part.isPresent) return false
  const message = `${part.name} is missing: ${part.install}`
  if (process.env.CI === 'true') {
    throw new Error(`${message} (CI=true: .ci/run must install it)`)
  }
  console.warn(`skipping: ${message}`)
  return true
}

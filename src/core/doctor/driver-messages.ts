/**
 * What native code prints on the probe's stderr (Dawn's warnings, the Vulkan loader, Wayland), as
 * short structured lines for the doctor's report instead of raw text in the user's terminal.
 *
 * Dawn prints a warning as a block: `Warning: <message>`, then ` - While <context>` lines and an
 * `    at <function> (<source file>:<line>)` line. One block becomes one line, its context in
 * parentheses and the source location dropped.
 */
const MAX_MESSAGES = 20
const MAX_CHARS = 300

const LEVEL_PREFIX = /^(?:warning|error|info)\s*:\s*/i
const CONTEXT_LINE = /^\s*-\s+(While .*)$/
const SOURCE_LINE = /^\s+at\s+\S.*\(.*:\d+\)\s*$/

export function driverMessages(text: string): string[] {
  const out: string[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd()
    if (line.trim() === '' || SOURCE_LINE.test(line)) continue
    const context = CONTEXT_LINE.exec(line)
    if (context?.[1] && out.length > 0) {
      out[out.length - 1] = `${out[out.length - 1]} (${context[1].replace(/^While/, 'while')})`
      continue
    }
    out.push(line.trim().replace(LEVEL_PREFIX, ''))
  }
  const unique = [...new Set(out.map((m) => (m.length > MAX_CHARS ? `${m.slice(0, MAX_CHARS - 3)}...` : m)))]
  return unique.length > MAX_MESSAGES
    ? [...unique.slice(0, MAX_MESSAGES), `(${unique.length - MAX_MESSAGES} more messages)`]
    : unique
}

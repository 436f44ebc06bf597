/**
 * The boundary every host calls: check the channel, validate the input with its schema, run the
 * handler, and answer an Envelope (Electron passes only a thrown error's message, so errors travel
 * as serialised AppErrors).
 */
import { AppError, type Envelope } from '../../shared/errors'
import { invokeChannels, type Handlers, type InvokeChannel } from '../../shared/contract'
import { inputSchemas } from '../../shared/schemas'

/**
 * `explain` may turn a failure into a clearer AppError (the composition root names the data
 * folder for disk-full and read-only errors); null keeps the error as it is.
 */
export function createDispatch(handlers: Handlers, explain: (err: unknown) => AppError | null = () => null) {
  return async function dispatch(channel: string, input: unknown): Promise<Envelope<unknown>> {
    try {
      if (!Object.hasOwn(invokeChannels, channel)) {
        throw new AppError('not_found', `unknown channel "${channel}"`)
      }
      const ch = channel as InvokeChannel
      const parsed = inputSchemas[ch].safeParse(input ?? {})
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({
          path: i.path.join('.'),
          message: i.message,
        }))
        const first = issues[0]
        throw new AppError(
          'invalid_input',
          `invalid input for ${ch}: ${first?.path ? `${first.path}: ` : ''}${first?.message ?? 'bad value'}`,
          { issues },
        )
      }
      const handler = handlers[ch] as (i: unknown) => unknown
      return { ok: true, value: await handler(parsed.data) }
    } catch (err) {
      return { ok: false, error: (explain(err) ?? AppError.from(err)).toJSON() }
    }
  }
}

/**
 * The app's one CSP (src/shared/csp.ts): what it allows, that every host sends exactly it, that the
 * renderer's <meta> is built from it, and, in real Chromium, that `connect-src 'self'` still lets
 * the web UI open its same-origin WebSocket while a socket to another port is refused.
 */
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { Plugin } from 'vite'
import { CONTENT_SECURITY_POLICY as MAIN_CSP } from '../../src/main/security'
import { CONTENT_SECURITY_POLICY as SERVER_CSP } from '../../src/server/index'
import { CONTENT_SECURITY_POLICY, contentSecurityPolicy } from '../../src/shared/csp'
import { needsSystemPart } from '../support/system-parts'

const directives = (policy: string) =>
  Object.fromEntries(
    policy.split(';').map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/)
      return [name!, sources.join(' ')]
    }),
  )

describe('one CSP', () => {
  it('allows only what the app needs', () => {
    const d = directives(CONTENT_SECURITY_POLICY)
    expect(d).toMatchObject({
      'default-src': "'self'",
      'script-src': "'self'",
      'connect-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'frame-ancestors': "'none'",
    })
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/\bwss?:|unsafe-eval|script-src[^;]*unsafe-inline|\*/)
  })

  it('leaves frame-ancestors out of the <meta> form only', () => {
    const meta = directives(contentSecurityPolicy('meta'))
    expect(meta['frame-ancestors']).toBeUndefined()
    const { 'frame-ancestors': _header, ...rest } = directives(CONTENT_SECURITY_POLICY)
    expect(meta).toEqual(rest)
  })

  it('is what the Electron session, the web host and the renderer build send', async () => {
    expect(MAIN_CSP).toBe(CONTENT_SECURITY_POLICY)
    expect(SERVER_CSP).toBe(CONTENT_SECURITY_POLICY)
    const config = (await import('../../electron.vite.config')).default as {
      renderer: { plugins: Plugin[] }
    }
    const plugin = config.renderer.plugins.flat().find((p) => p?.name === 'csp-meta')
    const transform = plugin?.transformIndexHtml as unknown as () => { attrs: Record<string, string> }[]
    expect(transform()[0]!.attrs).toEqual({
      'http-equiv': 'Content-Security-Policy',
      content: contentSecurityPolicy('meta'),
    })
  })
})

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const skipChromium = needsSystemPart({
  name: `Chromium at ${CHROMIUM}`,
  isPresent: existsSync(CHROMIUM),
  install: 'apt-get install -y chromium (or set CHROMIUM_PATH)',
})

describe.skipIf(skipChromium)('the CSP in Chromium', () => {
  const servers: Server[] = []
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  })

  /** An HTTP server with a WebSocket endpoint on the same port; `page` is served under `csp`. */
  async function serve(csp: { header?: string; meta?: string }, script: string): Promise<number> {
    const html = `<!doctype html><html><head>${
      csp.meta ? `<meta http-equiv="Content-Security-Policy" content="${csp.meta}">` : ''
    }<title>csp</title><script src="/app.js"></script></head><body></body></html>`
    const server = createServer((req, res) => {
      const headers: Record<string, string> = csp.header ? { 'content-security-policy': csp.header } : {}
      if (req.url === '/app.js')
        res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(script)
      else res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end(html)
    })
    const wss = new WebSocketServer({ server })
    wss.on('connection', (socket) => socket.send('hello'))
    servers.push(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    return (server.address() as AddressInfo).port
  }

  it.each(['header', 'meta'] as const)(
    'as a %s: the same-origin WebSocket connects, one to another port is refused',
    async (delivery) => {
      const otherPort = await serve({}, '')
      const probe = `
        function tryWs(url) {
          return new Promise((resolve) => {
            try {
              const ws = new WebSocket(url)
              ws.onmessage = (e) => { resolve('open:' + e.data); ws.close() }
              ws.onerror = () => resolve('refused')
            } catch (e) { resolve('refused') }
          })
        }
        window.results = Promise.all([
          tryWs('ws://' + location.host + '/api/events'),
          tryWs('ws://127.0.0.1:${otherPort}/'),
        ])`
      const csp =
        delivery === 'header'
          ? { header: contentSecurityPolicy('header') }
          : { meta: contentSecurityPolicy('meta') }
      const port = await serve(csp, probe)
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
      try {
        const page = await browser.newPage()
        const violations: string[] = []
        page.on('console', (m) => {
          if (/Content Security Policy/.test(m.text())) violations.push(m.text())
        })
        await page.goto(`http://127.0.0.1:${port}/`)
        const results = await page.evaluate(
          () => (globalThis as unknown as { results: Promise<string[]> }).results,
        )
        expect(results).toEqual(['open:hello', 'refused'])
        expect(violations.join('\n')).toContain(`ws://127.0.0.1:${otherPort}/`)
        expect(violations.join('\n')).not.toContain(`ws://127.0.0.1:${port}/`)
      } finally {
        await browser.close()
      }
    },
  )
})

// The real stack for the end-to-end tests: the Hive sandbox over a small generated warehouse
// and the local server (REST API and embedded console) on the embedded store, on free ports.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

export const root = resolve(import.meta.dirname, '../../../..')
export const adminToken = 'e2e-admin-token'
export const viewerToken = 'e2e-viewer-token'

// waitFor reads lines of stream until match returns a value, or the process exits.
function waitFor(proc, stream, match, what) {
  return new Promise((ok, fail) => {
    const lines = []
    const rl = createInterface({ input: stream })
    rl.on('line', (line) => {
      lines.push(line)
      const v = match(line)
      if (v) ok(v)
    })
    proc.on('exit', (code) => fail(new Error(`${what} exited (${code}) before it listened:\n${lines.slice(-20).join('\n')}`)))
  })
}

export async function startStack() {
  if (!existsSync(join(root, 'functions/console/dist/app/index.html'))) {
    throw new Error('the console is not built: run make console first')
  }
  const dir = mkdtempSync(join(tmpdir(), 'hivemerge-e2e-'))
  const bin = join(dir, 'bin')
  execFileSync('go', ['build', '-o', bin + '/', './shared/hivesandbox/cmd/hivesandbox', './functions/cmd/local'], { cwd: root, stdio: 'inherit' })

  const sandbox = spawn(join(bin, 'hivesandbox'), ['-addr', '127.0.0.1:0', '-warehouse', dir, '-generate', '-scale', '1', '-log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const sandboxAddr = await waitFor(sandbox, sandbox.stdout, (l) => /listening: binary=(\S+)/.exec(l)?.[1], 'the sandbox')
  sandbox.stdout.resume()

  const env = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    HIVEMERGE_STORE: 'bolt',
    HIVEMERGE_BOLT_PATH: join(dir, 'hivemerge.db'),
    HIVEMERGE_API_TOKEN: adminToken,
    HIVEMERGE_TOKENS: `reader:viewer:${viewerToken}`,
    HIVEMERGE_SANDBOX_ADDR: sandboxAddr,
    HIVEMERGE_SANDBOX_WAREHOUSE: dir,
    HIVEMERGE_SCHEDULER: '0',
    HIVEMERGE_SECRET_E2E: 'not-the-password',
  }
  delete env.GOOGLE_CLOUD_PROJECT
  delete env.FIRESTORE_EMULATOR_HOST
  const server = spawn(join(bin, 'local'), [], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await waitFor(
    server,
    server.stdout,
    (l) => {
      try {
        const m = JSON.parse(l)
        return m.message === 'listening' ? m.url : undefined
      } catch {
        return undefined
      }
    },
    'the local server',
  )
  server.stdout.resume()

  return {
    url,
    sandboxAddr,
    async api(method, path, body, token = adminToken) {
      const resp = await fetch(url + path, {
        method,
        headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await resp.text()
      return { status: resp.status, body: text ? JSON.parse(text) : undefined }
    },
    async stop() {
      for (const p of [server, sandbox]) {
        if (p.exitCode === null) {
          const exited = new Promise((ok) => p.on('exit', ok))
          p.kill('SIGTERM')
          await exited
        }
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

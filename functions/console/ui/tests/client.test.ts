import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError, apiBase, request } from '../src/api/client'
import { errorText } from '../src/api/errors'
import { signIn, token } from '../src/api/token'

// answer is a fetch that returns one response and records the request it got.
function answer(status: number, body: string, seen: Request[] = []): typeof fetch {
  return async (input, init) => {
    seen.push(new Request(new URL(String(input), 'http://console.test'), init))
    return new Response(status === 204 ? null : body, { status, headers: { 'Content-Type': 'application/json' } })
  }
}

// failure is the error p rejects with.
async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    return e as ApiError
  }
  throw new Error('the request succeeded')
}

const t = (key: string, values?: Record<string, unknown>) => key + (values ? ' ' + JSON.stringify(values) : '')

describe('request', () => {
  beforeEach(() => {
    sessionStorage.clear()
    signIn('secret-token')
  })

  it('sends the bearer token and the query, skipping empty values', async () => {
    const seen: Request[] = []
    await request('/tasks/', { query: { status: 'pending', table_name: '', limit: 20 }, fetch: answer(200, '{"tasks":[]}', seen) })
    expect(seen[0].headers.get('Authorization')).toBe('Bearer secret-token')
    expect(new URL(seen[0].url).pathname).toBe('/api/v1/tasks/')
    expect(new URL(seen[0].url).search).toBe('?status=pending&limit=20')
  })

  it('sends a JSON body', async () => {
    const seen: Request[] = []
    await request('/clusters', { method: 'POST', body: { id: 'c1' }, fetch: answer(201, '{"id":"c1"}', seen) })
    expect(seen[0].method).toBe('POST')
    expect(seen[0].headers.get('Content-Type')).toBe('application/json')
    expect(await seen[0].text()).toBe('{"id":"c1"}')
  })

  const cases: { name: string; status: number; body: string; code: string; message: string; signedOut: boolean; text: string }[] = [
    {
      name: 'the API error is kept, after what its code means',
      status: 409,
      body: '{"error":{"code":"conflict","message":"an active task already targets sales.orders"}}',
      code: 'conflict',
      message: 'an active task already targets sales.orders',
      signedOut: false,
      text: 'errors.coded {"summary":"errors.codes.conflict","message":"an active task already targets sales.orders"}',
    },
    {
      name: '401 signs out',
      status: 401,
      body: '{"error":{"code":"unauthenticated","message":"the token is not valid"}}',
      code: 'unauthenticated',
      message: 'the token is not valid',
      signedOut: true,
      text: 'errors.unauthenticated',
    },
    {
      name: '403 keeps the token and says why',
      status: 403,
      body: '{"error":{"code":"permission_denied","message":"viewer may not do this: it needs the admin role"}}',
      code: 'permission_denied',
      message: 'viewer may not do this: it needs the admin role',
      signedOut: false,
      text: 'errors.forbidden {"message":"viewer may not do this: it needs the admin role"}',
    },
    {
      name: 'a body that is not the API error',
      status: 502,
      body: 'Bad Gateway',
      code: 'http_502',
      message: 'Bad Gateway',
      signedOut: false,
      text: 'errors.generic {"message":"Bad Gateway"}',
    },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const err = await failure(request('/tasks/', { fetch: answer(c.status, c.body) }))
      expect(err).toBeInstanceOf(ApiError)
      expect(err.status).toBe(c.status)
      expect(err.code).toBe(c.code)
      expect(err.message).toBe(c.message)
      expect(token.value === '').toBe(c.signedOut)
      expect(errorText(err, t)).toBe(c.text)
    })
  }

  it('a network failure is an ApiError with status 0', async () => {
    const down: typeof fetch = async () => {
      throw new TypeError('Failed to fetch')
    }
    const err = await failure(request('/tasks/', { fetch: down }))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(0)
    expect(errorText(err, t)).toBe('errors.network {"message":"Failed to fetch"}')
  })

  it('204 is no content', async () => {
    await expect(request('/clusters/c1', { method: 'DELETE', fetch: answer(204, '') })).resolves.toBeUndefined()
  })

  it('a success that is not JSON is an error', async () => {
    const err = await failure(request('/tasks/', { fetch: answer(200, '<html>') }))
    expect(err.code).toBe('bad_response')
  })
})

// The deployed console is served by the API function, under whatever prefix the platform puts
// before it: the API is always beside the console's directory, on its origin.
describe('apiBase', () => {
  it.each([
    ['local server', 'http://127.0.0.1:8080/console/#/tasks', 'http://127.0.0.1:8080/api/v1'],
    ['API function below its name', 'https://r-p.cloudfunctions.net/API/console/#/tables/demo/db/t', 'https://r-p.cloudfunctions.net/API/api/v1'],
    ['the page itself', 'https://api-x.a.run.app/console/index.html?x=1', 'https://api-x.a.run.app/api/v1'],
    ['development server at the root', 'http://localhost:5173/', 'http://localhost:5173/api/v1'],
  ])('%s', (_name, page, want) => {
    expect(apiBase(page)).toBe(want)
  })
})

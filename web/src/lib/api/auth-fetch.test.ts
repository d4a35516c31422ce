import { describe, expect, it, vi } from 'vitest';
import { createAuthFetch, type TokenStore, type Tokens } from './auth-fetch';

function memoryStore(initial: Tokens | null): TokenStore & { value: Tokens | null } {
  return {
    value: initial,
    get() {
      return this.value;
    },
    set(t) {
      this.value = t;
    },
  };
}

/** A fake server: access token "a<n>" is valid only for the current n. */
function fakeServer(opts: { refreshStatus?: number; delayMs?: number } = {}) {
  let generation = 1;
  const calls: string[] = [];
  const bodies: string[] = [];
  const fetch = vi.fn(async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    calls.push(`${req.method} ${path} ${req.headers.get('Authorization') ?? '-'}`);
    if (path === '/api/auth/refresh/') {
      const body = (await req.json()) as { refresh: string };
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (opts.refreshStatus && opts.refreshStatus !== 200) return new Response('{}', { status: opts.refreshStatus });
      if (body.refresh !== `r${generation}`) return new Response('{}', { status: 401 });
      generation++;
      return Response.json({ access: `a${generation}`, refresh: `r${generation}` });
    }
    if (req.method === 'POST') bodies.push(await req.text());
    if (path.startsWith('/api/auth/')) return new Response('{}', { status: 401 });
    if (req.headers.get('Authorization') !== `Bearer a${generation}`) return new Response('{}', { status: 401 });
    return Response.json({ ok: true });
  });
  return {
    fetch,
    calls,
    bodies,
    setGeneration(n: number) {
      generation = n;
    },
  };
}

const url = (p: string) => `http://localhost${p}`;

describe('createAuthFetch', () => {
  it('adds the access token and passes a good answer through', async () => {
    const server = fakeServer();
    const store = memoryStore({ access: 'a1', refresh: 'r1' });
    const f = createAuthFetch({ fetch: server.fetch, store, onSignedOut: () => {}, lock: (fn) => fn() });
    const res = await f(new Request(url('/api/dashboard/user/')));
    expect(res.status).toBe(200);
    expect(server.calls).toEqual(['GET /api/dashboard/user/ Bearer a1']);
  });

  it('refreshes once on a 401 and retries the request with its body', async () => {
    const server = fakeServer();
    const store = memoryStore({ access: 'stale', refresh: 'r1' });
    const f = createAuthFetch({ fetch: server.fetch, store, onSignedOut: () => {}, lock: (fn) => fn() });
    const res = await f(new Request(url('/api/dashboard/user/profile/'), { method: 'POST', body: '{"x":1}' }));
    expect(res.status).toBe(200);
    expect(store.value).toEqual({ access: 'a2', refresh: 'r2' });
    expect(server.calls).toEqual([
      'POST /api/dashboard/user/profile/ Bearer stale',
      'POST /api/auth/refresh/ -',
      'POST /api/dashboard/user/profile/ Bearer a2',
    ]);
    expect(server.bodies).toEqual(['{"x":1}', '{"x":1}']);
  });

  it('shares one refresh between concurrent 401s', async () => {
    const server = fakeServer({ delayMs: 20 });
    const store = memoryStore({ access: 'stale', refresh: 'r1' });
    const f = createAuthFetch({ fetch: server.fetch, store, onSignedOut: () => {}, lock: (fn) => fn() });
    const answers = await Promise.all([1, 2, 3, 4].map(() => f(new Request(url('/api/dashboard/user/')))));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(server.calls.filter((c) => c.includes('/refresh/'))).toHaveLength(1);
  });

  it('does not refresh when another caller already has', async () => {
    const server = fakeServer();
    server.setGeneration(2);
    const store = memoryStore({ access: 'a1', refresh: 'r1' });
    // The request leaves with a1; by the time its 401 is back, the store holds a2.
    const f = createAuthFetch({
      fetch: async (req) => {
        const res = await server.fetch(req);
        store.value = { access: 'a2', refresh: 'r2' };
        return res;
      },
      store,
      onSignedOut: () => {},
      lock: (fn) => fn(),
    });
    const res = await f(new Request(url('/api/dashboard/user/')));
    expect(res.status).toBe(200);
    expect(server.calls.filter((c) => c.includes('/refresh/'))).toHaveLength(0);
  });

  it('ends the session once when the refresh is refused, and answers the 401', async () => {
    const server = fakeServer({ refreshStatus: 401 });
    const store = memoryStore({ access: 'stale', refresh: 'r1' });
    const onSignedOut = vi.fn();
    const f = createAuthFetch({ fetch: server.fetch, store, onSignedOut, lock: (fn) => fn() });
    const answers = await Promise.all([f(new Request(url('/api/a/'))), f(new Request(url('/api/b/')))]);
    expect(answers.map((r) => r.status)).toEqual([401, 401]);
    expect(store.value).toBeNull();
    expect(onSignedOut).toHaveBeenCalledTimes(1);
  });

  it('keeps the session when the refresh fails for a server error', async () => {
    const server = fakeServer({ refreshStatus: 503 });
    const store = memoryStore({ access: 'stale', refresh: 'r1' });
    const onSignedOut = vi.fn();
    const f = createAuthFetch({ fetch: server.fetch, store, onSignedOut, lock: (fn) => fn() });
    expect((await f(new Request(url('/api/a/')))).status).toBe(401);
    expect(store.value).toEqual({ access: 'stale', refresh: 'r1' });
    expect(onSignedOut).not.toHaveBeenCalled();
  });

  it('never refreshes for a 401 from the auth routes (wrong password)', async () => {
    const server = fakeServer();
    const store = memoryStore({ access: 'a1', refresh: 'r1' });
    const f = createAuthFetch({ fetch: server.fetch, store, onSignedOut: () => {}, lock: (fn) => fn() });
    const res = await f(new Request(url('/api/auth/login/'), { method: 'POST', body: '{}' }));
    expect(res.status).toBe(401);
    expect(server.calls).toEqual(['POST /api/auth/login/ -']);
  });

  it('retries at most once', async () => {
    const store = memoryStore({ access: 'a1', refresh: 'r1' });
    let n = 0;
    const f = createAuthFetch({
      fetch: async (req) => {
        n++;
        if (new URL(req.url).pathname === '/api/auth/refresh/') return Response.json({ access: `x${n}`, refresh: `y${n}` });
        return new Response('{}', { status: 401 });
      },
      store,
      onSignedOut: () => {},
      lock: (fn) => fn(),
    });
    expect((await f(new Request(url('/api/a/')))).status).toBe(401);
    expect(n).toBe(3); // request, refresh, one retry
  });
});

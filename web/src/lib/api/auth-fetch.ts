// The one fetch wrapper every API call goes through. It adds the access
// token and keeps the session alive invisibly: a 401 triggers one refresh
// (shared by every request that got a 401 meanwhile, and serialised across
// tabs with the Web Locks API), then the request is retried once. A refresh
// the server refuses ends the session.

export interface Tokens {
  access: string;
  refresh: string;
}

/** Where the tokens live (localStorage in the app, memory in tests). */
export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

export interface AuthFetchOptions {
  fetch: (req: Request) => Promise<Response>;
  store: TokenStore;
  /** Called once when the session has ended (refresh refused). */
  onSignedOut: () => void;
  /** Runs fn exclusively across tabs; defaults to navigator.locks when present. */
  lock?: <T>(fn: () => Promise<T>) => Promise<T>;
  refreshPath?: string;
}

const authPrefix = '/api/auth/';

function defaultLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? (locks.request('callboard-refresh', fn) as Promise<T>) : fn();
}

export function createAuthFetch(opts: AuthFetchOptions): (req: Request) => Promise<Response> {
  const refreshPath = opts.refreshPath ?? '/api/auth/refresh/';
  const lock = opts.lock ?? defaultLock;
  let inflight: Promise<boolean> | null = null;

  function send(req: Request, access: string | undefined): Promise<Response> {
    if (access) req.headers.set('Authorization', `Bearer ${access}`);
    return opts.fetch(req);
  }

  // refresh exchanges the refresh token for a new pair. staleAccess is the
  // token the failed request carried: if the store holds another by now,
  // someone else (a concurrent request, another tab) has already refreshed.
  async function refresh(staleAccess: string): Promise<boolean> {
    return lock(async () => {
      const current = opts.store.get();
      if (!current) return false;
      if (current.access !== staleAccess) return true;
      let res: Response;
      try {
        res = await opts.fetch(
          new Request(new URL(refreshPath, base()), {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ refresh: current.refresh }),
          }),
        );
      } catch {
        return false; // offline: keep the session, the caller sees its 401
      }
      if (!res.ok) {
        if (res.status === 400 || res.status === 401 || res.status === 403) {
          opts.store.set(null);
          opts.onSignedOut();
        }
        return false;
      }
      const next = (await res.json()) as Tokens;
      opts.store.set({ access: next.access, refresh: next.refresh });
      return true;
    });
  }

  function sharedRefresh(staleAccess: string): Promise<boolean> {
    if (!inflight) {
      inflight = refresh(staleAccess).finally(() => {
        inflight = null;
      });
    }
    return inflight;
  }

  return async function authFetch(req: Request): Promise<Response> {
    const isAuthRoute = new URL(req.url).pathname.startsWith(authPrefix);
    const tokens = isAuthRoute ? null : opts.store.get();
    const retry = tokens ? req.clone() : null;
    const res = await send(req, tokens?.access);
    if (res.status !== 401 || !tokens || !retry) return res;
    if (!(await sharedRefresh(tokens.access))) return res;
    return send(retry, opts.store.get()?.access);
  };
}

function base(): string {
  return typeof location !== 'undefined' ? location.origin : 'http://localhost';
}

/** Tokens kept in localStorage, so a reload stays signed in. */
export function localTokenStore(key = 'callboard.session'): TokenStore {
  return {
    get() {
      try {
        const raw = localStorage.getItem(key);
        if (!raw) return null;
        const t = JSON.parse(raw) as Partial<Tokens>;
        return typeof t.access === 'string' && typeof t.refresh === 'string' ? { access: t.access, refresh: t.refresh } : null;
      } catch {
        return null;
      }
    },
    set(tokens) {
      if (tokens) localStorage.setItem(key, JSON.stringify(tokens));
      else localStorage.removeItem(key);
    },
  };
}

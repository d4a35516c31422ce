// A small history router: the path picks the page, the query string holds a
// page's state (filters, the open call), so links are shareable and the back
// button works.
export const route = $state<{ path: string; query: URLSearchParams }>({
  path: location.pathname,
  query: new URLSearchParams(location.search),
});

function sync(): void {
  route.path = location.pathname;
  route.query = new URLSearchParams(location.search);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(to, location.origin);
  if (url.pathname + url.search === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', url.pathname + url.search);
  else history.pushState(null, '', url.pathname + url.search);
  sync();
  if (!opts.replace) window.scrollTo(0, 0);
}

/** Replaces the query string (keeping the path); empty values are dropped. */
export function setQuery(params: Record<string, string | undefined>, opts: { replace?: boolean } = {}): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  navigate(location.pathname + (s ? `?${s}` : ''), opts);
}

export function initRouter(): void {
  window.addEventListener('popstate', sync);
  // Same-origin links navigate without a reload.
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
    const href = a.getAttribute('href') ?? '';
    if (href.startsWith('#')) return; // in-page links keep their own behaviour
    if (href.startsWith('/api/') || href.startsWith('/media/') || href.startsWith('/swagger')) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
}

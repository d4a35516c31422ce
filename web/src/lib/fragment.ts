// Single-use tokens in mail links travel in the URL fragment
// (/verify-email#token=…), which browsers never send to a server, so the
// token reaches neither access logs nor a Referer header. The page takes it
// once and removes it from the address bar (and so from history and from
// what a user might copy and share).

/** The token of a fragment like "#token=abc" (other parameters allowed), or null. */
export function parseFragmentToken(hash: string): string | null {
  for (const part of hash.replace(/^#/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq) !== 'token') continue;
    let value: string;
    try {
      // decodeURIComponent, not URLSearchParams: a "+" in a token stays a "+".
      value = decodeURIComponent(part.slice(eq + 1)).trim();
    } catch {
      return null; // malformed percent-encoding: not a token we issued
    }
    return value && value.length <= 512 ? value : null;
  }
  return null;
}

/**
 * Reads the token from the current URL's fragment and replaces the address
 * with the same path and query without the fragment (no new history entry).
 */
export function takeFragmentToken(loc: Pick<Location, 'hash' | 'pathname' | 'search'> = location, hist: Pick<History, 'replaceState' | 'state'> = history): string | null {
  const token = parseFragmentToken(loc.hash);
  if (loc.hash) hist.replaceState(hist.state, '', loc.pathname + loc.search);
  return token;
}

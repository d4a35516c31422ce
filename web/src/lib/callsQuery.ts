// The call history's state lives in the URL: these are the keys the page
// keeps there (the API's own query parameters, plus "call" for the open
// detail panel), so a link is shareable and the back button works.

export const filterKeys = ['status', 'direction', 'agent', 'date_from', 'date_to', 'search'] as const;
export const pageKeys = ['page', 'cursor', 'page_size', 'ordering'] as const;
export type FilterKey = (typeof filterKeys)[number];

export type CallsQuery = Partial<Record<FilterKey | (typeof pageKeys)[number], string>>;

/** The list query of a URL query string: filters and paging, nothing else. */
export function readQuery(q: URLSearchParams): CallsQuery {
  const out: CallsQuery = {};
  for (const k of [...filterKeys, ...pageKeys]) {
    const v = q.get(k);
    if (v) out[k] = v;
  }
  return out;
}

/** A changed filter starts again at the first page. */
export function withFilter(current: CallsQuery, key: FilterKey, value: string): CallsQuery {
  const next: CallsQuery = { ...current, [key]: value || undefined };
  delete next.page;
  delete next.cursor;
  return next;
}

/** The app URL query for a paging link the API gave (next/previous). */
export function fromApiLink(link: string): CallsQuery {
  return readQuery(new URL(link, 'http://x').searchParams);
}

export function hasFilters(q: CallsQuery): boolean {
  return filterKeys.some((k) => !!q[k]);
}

export function toSearch(q: CallsQuery): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  return p.toString();
}

// The call history's state lives in the URL: these are the keys the page
// keeps there (the API's own query parameters, plus "call" for the open
// detail panel), so a link is shareable and the back button works.

import type { paths } from './api/schema';
import { statusLabel } from './labels';

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

/** The list operation's query parameters, as the generated client types them. */
export type CallsApiQuery = NonNullable<paths['/api/dashboard/user/calls/']['get']['parameters']['query']>;
type Status = NonNullable<CallsApiQuery['status']>[number];
type Ordering = NonNullable<CallsApiQuery['ordering']>;

const statuses: readonly Status[] = Object.keys(statusLabel) as Status[];
const directions: readonly NonNullable<CallsApiQuery['direction']>[] = ['inbound', 'outbound'];
const orderings: Record<Ordering, true> = {
  '-started_at': true,
  started_at: true,
  duration: true,
  '-duration': true,
  satisfaction: true,
  '-satisfaction': true,
};

function positiveInt(v: string | undefined): number | undefined {
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * The API query for the URL's list query. A URL is typed by hand or
 * shared, so a value the API does not take (an unknown status, a
 * misspelt ordering, an agent that is not an id) is left out rather than
 * sent: the page shows what the rest of the URL asks for.
 */
export function toApiQuery(q: CallsQuery): CallsApiQuery {
  const status = (q.status ?? '').split(',').filter((s): s is Status => (statuses as string[]).includes(s));
  return {
    status: status.length ? status : undefined,
    direction: directions.find((d) => d === q.direction),
    agent: positiveInt(q.agent),
    date_from: q.date_from,
    date_to: q.date_to,
    search: q.search,
    page: positiveInt(q.page),
    page_size: positiveInt(q.page_size),
    cursor: q.cursor,
    ordering: q.ordering && q.ordering in orderings ? (q.ordering as Ordering) : undefined,
  };
}

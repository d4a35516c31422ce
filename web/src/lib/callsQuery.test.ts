import { describe, expect, it } from 'vitest';
import { fromApiLink, hasFilters, readQuery, toSearch, withFilter } from './callsQuery';

describe('calls URL state', () => {
  it('keeps only known keys', () => {
    expect(readQuery(new URLSearchParams('status=completed&call=12&x=1&page=2&search=ali'))).toEqual({
      status: 'completed',
      page: '2',
      search: 'ali',
    });
  });
  it('returns to the first page when a filter changes', () => {
    expect(withFilter({ page: '3', cursor: 'abc', direction: 'inbound' }, 'status', 'failed')).toEqual({
      direction: 'inbound',
      status: 'failed',
    });
    expect(withFilter({ status: 'failed' }, 'status', '')).toEqual({ status: undefined });
  });
  it('follows the API paging links', () => {
    expect(fromApiLink('/api/dashboard/user/calls/?cursor=eyJ4&direction=inbound&page_size=20')).toEqual({
      cursor: 'eyJ4',
      direction: 'inbound',
      page_size: '20',
    });
  });
  it('knows when filters are set and writes a query string', () => {
    expect(hasFilters({ page: '2' })).toBe(false);
    expect(hasFilters({ search: 'x' })).toBe(true);
    expect(toSearch({ search: 'a b', status: undefined, page: '2' })).toBe('search=a+b&page=2');
  });
});

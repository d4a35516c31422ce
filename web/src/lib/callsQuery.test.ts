import { describe, expect, it } from 'vitest';
import { fromApiLink, hasFilters, readQuery, toApiQuery, toSearch, withFilter } from './callsQuery';

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

describe('the API query of a URL', () => {
  it('types what the API takes', () => {
    expect(toApiQuery({ status: 'completed,failed', direction: 'inbound', agent: '7', page: '2', ordering: '-duration', search: 'refund' })).toEqual({
      status: ['completed', 'failed'],
      direction: 'inbound',
      agent: 7,
      page: 2,
      ordering: '-duration',
      search: 'refund',
    });
  });
  it('leaves out what a hand-typed URL gets wrong', () => {
    const q = toApiQuery({ status: 'completed,bogus', direction: 'sideways', agent: 'ali', page: '-1', page_size: '1.5', ordering: 'name' });
    expect(q.status).toEqual(['completed']);
    expect([q.direction, q.agent, q.page, q.page_size, q.ordering]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(toApiQuery({ status: 'bogus' }).status).toBeUndefined();
  });
});

import { describe, expect, it, vi } from 'vitest';
import { parseFragmentToken, takeFragmentToken } from './fragment';

describe('parseFragmentToken', () => {
  const cases: [string, string | null][] = [
    ['#token=abc123', 'abc123'],
    ['token=abc123', 'abc123'],
    ['#lang=ur&token=x-y_z', 'x-y_z'],
    ['#token=a%2Bb%3D', 'a+b='],
    ['#token=a+b', 'a+b'],
    ['#token=', null],
    ['#token=%20', null],
    ['#tokens=abc', null],
    ['#abc', null],
    ['', null],
    ['#token=%E0%A4%A', null],
    [`#token=${'a'.repeat(513)}`, null],
  ];
  for (const [hash, want] of cases) it(`${JSON.stringify(hash.slice(0, 40))} → ${want}`, () => expect(parseFragmentToken(hash)).toBe(want));
});

describe('takeFragmentToken', () => {
  it('returns the token and removes the fragment, keeping path and query', () => {
    const hist = { state: { k: 1 }, replaceState: vi.fn() };
    expect(takeFragmentToken({ hash: '#token=t0k', pathname: '/verify-email', search: '?lang=ur' }, hist)).toBe('t0k');
    expect(hist.replaceState).toHaveBeenCalledWith({ k: 1 }, '', '/verify-email?lang=ur');
  });
  it('removes a fragment without a token too', () => {
    const hist = { state: null, replaceState: vi.fn() };
    expect(takeFragmentToken({ hash: '#oops', pathname: '/reset-password', search: '' }, hist)).toBeNull();
    expect(hist.replaceState).toHaveBeenCalledWith(null, '', '/reset-password');
  });
  it('leaves the history alone when there is no fragment', () => {
    const hist = { state: null, replaceState: vi.fn() };
    expect(takeFragmentToken({ hash: '', pathname: '/reset-password', search: '' }, hist)).toBeNull();
    expect(hist.replaceState).not.toHaveBeenCalled();
  });
});

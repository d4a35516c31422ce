import { describe, expect, it } from 'vitest';
import { cleanPath, isOpenPath } from './paths';

describe('isOpenPath', () => {
  const cases: [string, boolean][] = [
    ['/verify-email', true],
    ['/verify-email/', true],
    ['/forgot-password', true],
    ['/reset-password', true],
    ['/unsubscribe', true],
    ['/', false],
    ['/signin', false],
    ['/profile', false],
    ['/verify-email/extra', false],
    ['/Unsubscribe', false],
  ];
  for (const [path, want] of cases) it(`${path} → ${want}`, () => expect(isOpenPath(path)).toBe(want));
  it('cleans trailing slashes but keeps the root', () => {
    expect(cleanPath('/calls//')).toBe('/calls');
    expect(cleanPath('/')).toBe('/');
    expect(cleanPath('')).toBe('/');
  });
});

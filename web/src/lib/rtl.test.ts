import { describe, expect, it } from 'vitest';
import { applyDocumentLanguage, dirOf, inlineStep, isolateLtr } from './rtl';

describe('dirOf', () => {
  it.each([
    ['ur', 'rtl'],
    ['ur-PK', 'rtl'],
    ['AR', 'rtl'],
    ['en', 'ltr'],
    ['en-GB', 'ltr'],
    ['', 'ltr'],
  ] as const)('%s is %s', (lang, dir) => expect(dirOf(lang)).toBe(dir));
});

describe('applyDocumentLanguage', () => {
  it('sets lang and dir together', () => {
    const el = { lang: '', dir: '' } as HTMLElement;
    applyDocumentLanguage(el, 'ur');
    expect([el.lang, el.dir]).toEqual(['ur', 'rtl']);
    applyDocumentLanguage(el, 'en');
    expect([el.lang, el.dir]).toEqual(['en', 'ltr']);
  });
});

describe('inlineStep', () => {
  it('mirrors the arrow keys in right-to-left', () => {
    expect(inlineStep('ArrowRight', 'ltr')).toBe(1);
    expect(inlineStep('ArrowLeft', 'ltr')).toBe(-1);
    expect(inlineStep('ArrowRight', 'rtl')).toBe(-1);
    expect(inlineStep('ArrowLeft', 'rtl')).toBe(1);
    expect(inlineStep('ArrowUp', 'rtl')).toBe(0);
  });
});

describe('isolateLtr', () => {
  it('wraps in left-to-right isolation marks', () => {
    expect(isolateLtr('+923001234567')).toBe('\u2066+923001234567\u2069');
  });
});

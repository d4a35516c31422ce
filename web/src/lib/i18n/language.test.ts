// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { i18n, setLanguage, t } from './index.svelte';

describe('setLanguage', () => {
  it('switches strings, lang and dir together, and remembers the choice', () => {
    setLanguage('ur');
    expect(document.documentElement.lang).toBe('ur');
    expect(document.documentElement.dir).toBe('rtl');
    expect(i18n.dir).toBe('rtl');
    expect(t('nav.calls')).toBe('کالز');
    expect(localStorage.getItem('callboard.lang')).toBe('ur');
    setLanguage('en');
    expect(document.documentElement.dir).toBe('ltr');
    expect(t('nav.calls')).toBe('Calls');
  });
});

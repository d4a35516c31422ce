import { describe, expect, it } from 'vitest';
import { en, type MessageKey } from './en';
import { catalogs, languages, pickLanguage, placeholders, translate } from './translate';

const keys = Object.keys(en) as MessageKey[];

describe('message catalogs', () => {
  for (const lang of languages) {
    it(`${lang} has every English key, no others, and the same parameters`, () => {
      const catalog = catalogs[lang] as Record<string, string>;
      const missing = keys.filter((k) => typeof catalog[k] !== 'string' || catalog[k].trim() === '');
      const extra = Object.keys(catalog).filter((k) => !(k in en));
      expect(missing, `missing in ${lang}`).toEqual([]);
      expect(extra, `unknown keys in ${lang}`).toEqual([]);
      for (const k of keys) expect(placeholders(catalog[k] ?? ''), `${lang} ${k}`).toEqual(placeholders(en[k]));
    });
  }

  it('keeps the glossary terms in Urdu', () => {
    const glossary: [MessageKey, string][] = [
      ['nav.dashboard', 'ڈیش بورڈ'],
      ['nav.calls', 'کالز'],
      ['calls.title', 'کالز کی تاریخ'],
      ['nav.settings', 'ترتیبات'],
      ['auth.signIn', 'سائن ان'],
      ['auth.signOut', 'سائن آؤٹ'],
      ['calls.export', 'ایکسپورٹ'],
      ['dash.successRate', 'کامیابی کی شرح'],
      ['status.no-answer', 'چھوٹی ہوئی'],
    ];
    for (const [k, term] of glossary) expect(catalogs.ur[k]).toBe(term);
  });
});

describe('translate', () => {
  it('fills parameters and leaves unknown ones visible', () => {
    expect(translate('en', 'calls.count', { count: 12 })).toBe('12 calls');
    expect(translate('ur', 'calls.count', { count: 12 })).toBe('12 کالز');
    expect(translate('en', 'calls.count')).toBe('{count} calls');
  });
  it('picks Urdu only for Urdu tags', () => {
    expect(pickLanguage('ur-PK')).toBe('ur');
    expect(pickLanguage('en-US')).toBe('en');
    expect(pickLanguage('ar')).toBe('en');
    expect(pickLanguage(undefined)).toBe('en');
  });
});

// The current language, reactive: components call t(), which reads it, so a
// language switch re-renders every string without a reload.
import { applyDocumentLanguage, dirOf, type Dir } from '../rtl';
import type { MessageKey } from './en';
import { pickLanguage, translate, type Lang } from './translate';

export type { Lang, MessageKey };

const storageKey = 'callboard.lang';

function initial(): Lang {
  try {
    const saved = localStorage.getItem(storageKey);
    if (saved === 'en' || saved === 'ur') return saved;
  } catch {
    // storage unavailable: fall through to the browser's language
  }
  return pickLanguage(typeof navigator !== 'undefined' ? navigator.language : undefined);
}

export const i18n = $state<{ lang: Lang; dir: Dir }>({ lang: 'en', dir: 'ltr' });

export function setLanguage(lang: Lang): void {
  i18n.lang = lang;
  i18n.dir = dirOf(lang);
  applyDocumentLanguage(document.documentElement, lang);
  try {
    localStorage.setItem(storageKey, lang);
  } catch {
    // not remembered across sign-outs; the preference still applies
  }
}

export function initLanguage(): void {
  setLanguage(initial());
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return translate(i18n.lang, key, params);
}

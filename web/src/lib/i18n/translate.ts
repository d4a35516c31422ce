import { en, type MessageKey } from './en';
import { ur } from './ur';

export type Lang = 'en' | 'ur';
export const languages: readonly Lang[] = ['en', 'ur'];
export const catalogs: Record<Lang, Record<MessageKey, string>> = { en, ur };

/** The parameters ({name}) a message uses. */
export function placeholders(message: string): string[] {
  return [...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();
}

/** The message of key in lang with its parameters filled in. */
export function translate(lang: Lang, key: MessageKey, params?: Record<string, string | number>): string {
  const message = catalogs[lang][key] ?? en[key];
  if (!params) return message;
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** The supported language closest to a BCP 47 tag (navigator.language). */
export function pickLanguage(tag: string | undefined): Lang {
  return tag?.toLowerCase().startsWith('ur') ? 'ur' : 'en';
}

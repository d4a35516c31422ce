// Writing direction: Urdu (and the other Arabic-script languages) are laid
// out right to left. Layout uses logical CSS properties, so setting the
// document's dir is all a language switch needs.

const rtlLanguages = new Set(['ur', 'ar', 'fa', 'he', 'ps', 'sd']);

export type Dir = 'ltr' | 'rtl';

/** The writing direction of a BCP 47 language tag. */
export function dirOf(lang: string): Dir {
  const base = lang.toLowerCase().split('-')[0] ?? '';
  return rtlLanguages.has(base) ? 'rtl' : 'ltr';
}

/** Sets <html lang dir> for lang. */
export function applyDocumentLanguage(root: HTMLElement, lang: string): void {
  root.lang = lang;
  root.dir = dirOf(lang);
}

/**
 * The inline-axis step of a key press: ArrowRight moves forward in
 * left-to-right text and backward in right-to-left text.
 */
export function inlineStep(key: string, dir: Dir): -1 | 0 | 1 {
  const forward = dir === 'rtl' ? 'ArrowLeft' : 'ArrowRight';
  const backward = dir === 'rtl' ? 'ArrowRight' : 'ArrowLeft';
  if (key === forward) return 1;
  if (key === backward) return -1;
  return 0;
}

/**
 * Wraps left-to-right text (a phone number, an email, an id) in Unicode
 * isolation marks so it keeps its order inside right-to-left text, where
 * markup (<bdi>, dir="ltr") is not available, as in a title or an aria-label.
 */
export function isolateLtr(text: string): string {
  return `\u2066${text}\u2069`;
}

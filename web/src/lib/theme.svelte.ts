// Light, dark or auto; auto follows the device's colour scheme live.
export type ThemePref = 'light' | 'dark' | 'auto';

export const theme = $state<{ pref: ThemePref; resolved: 'light' | 'dark' }>({ pref: 'auto', resolved: 'light' });

const storageKey = 'callboard.theme';
let media: MediaQueryList | null = null;

function resolve(): void {
  const dark = theme.pref === 'dark' || (theme.pref === 'auto' && (media?.matches ?? false));
  theme.resolved = dark ? 'dark' : 'light';
  document.documentElement.dataset.theme = theme.resolved;
  document.querySelector('meta[name="theme-color"]')?.setAttribute('content', dark ? '#0d1117' : '#0f766e');
}

export function setTheme(pref: ThemePref): void {
  theme.pref = pref;
  try {
    localStorage.setItem(storageKey, pref);
  } catch {
    // ignore
  }
  resolve();
}

export function initTheme(): void {
  media = window.matchMedia('(prefers-color-scheme: dark)');
  media.addEventListener('change', resolve);
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(storageKey);
  } catch {
    // ignore
  }
  setTheme(saved === 'light' || saved === 'dark' ? saved : 'auto');
}

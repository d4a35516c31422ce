// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';

// A controllable prefers-color-scheme: dark.
let dark = false;
const listeners = new Set<() => void>();
Object.defineProperty(window, 'matchMedia', {
  value: (query: string) => ({
    media: query,
    get matches() {
      return dark;
    },
    addEventListener: (_: string, fn: () => void) => listeners.add(fn),
    removeEventListener: (_: string, fn: () => void) => listeners.delete(fn),
  }),
});
function systemTurns(isDark: boolean) {
  dark = isDark;
  listeners.forEach((fn) => fn());
}

const { initTheme, setTheme, theme } = await import('./theme.svelte');

describe('theme', () => {
  beforeEach(() => {
    localStorage.clear();
    systemTurns(false);
  });

  it('starts on auto and follows the device live', () => {
    initTheme();
    expect(theme.pref).toBe('auto');
    expect(document.documentElement.dataset.theme).toBe('light');
    systemTurns(true);
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(theme.resolved).toBe('dark');
    systemTurns(false);
    expect(document.documentElement.dataset.theme).toBe('light');
  });

  it('keeps an explicit choice whatever the device does, and remembers it', () => {
    setTheme('dark');
    systemTurns(false);
    expect(document.documentElement.dataset.theme).toBe('dark');
    setTheme('light');
    systemTurns(true);
    expect(document.documentElement.dataset.theme).toBe('light');
    expect(localStorage.getItem('callboard.theme')).toBe('light');
  });
});

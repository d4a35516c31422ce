// Who is signed in, their preferences and the dashboard overview the shell
// shows (bell, footer, which sections exist). Preferences drive the theme and
// the language; changing them applies at once and is saved to the server.
import { api, onSignedOut, tokens, type Overview, type Preferences, type PreferencesPatch, type User } from './api/client';
import type { FormatPrefs } from './format';
import { i18n, setLanguage, t } from './i18n/index.svelte';
import { isOpenPath } from './paths';
import { navigate, route } from './router.svelte';
import { setTheme } from './theme.svelte';
import { toast } from './toast.svelte';

export const session = $state<{
  status: 'loading' | 'signedOut' | 'signedIn';
  user: User | null;
  prefs: Preferences | null;
  overview: Overview | null;
  overviewAt: number;
}>({ status: 'loading', user: null, prefs: null, overview: null, overviewAt: 0 });

/** The formatting preferences of the signed-in user (or the defaults). */
export function fmt(): FormatPrefs {
  const p = session.prefs;
  return {
    lang: i18n.lang,
    timeZone: p?.timezone ?? session.overview?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    dateFormat: p?.date_format ?? 'DD/MM/YYYY',
    timeFormat: p?.time_format ?? '12h',
  };
}

function applyPrefs(p: Preferences): void {
  session.prefs = p;
  setTheme(p.theme);
  setLanguage(p.language);
}

/** Loads the user and preferences in parallel after a sign-in or reload. */
export async function loadAccount(): Promise<void> {
  if (!tokens.get()) {
    session.status = 'signedOut';
    return;
  }
  // In parallel: the overview is what the shell and the home page show first.
  const [profile, prefs] = await Promise.all([
    api.GET('/api/dashboard/user/profile/'),
    api.GET('/api/dashboard/user/preferences/'),
    loadOverview().catch(() => null),
  ]);
  if (!profile.data || !prefs.data) {
    if (!tokens.get()) return; // the refresh failed: onSignedOut has run
    throw new Error(`account: ${profile.response.status} ${prefs.response.status}`);
  }
  session.user = profile.data;
  applyPrefs(prefs.data);
  session.status = 'signedIn';
}

let overviewInflight: Promise<Overview | null> | null = null;

/** Fetches the overview; callers at the same time share one request. */
export function loadOverview(): Promise<Overview | null> {
  overviewInflight ??= api
    .GET('/api/dashboard/user/', { params: { query: { days: 30 } } })
    .then(({ data }) => {
      if (data) {
        session.overview = data;
        session.overviewAt = Date.now();
      }
      return data ?? null;
    })
    .finally(() => {
      overviewInflight = null;
    });
  return overviewInflight;
}

export async function signedIn(access: string, refresh: string, user: User): Promise<void> {
  tokens.set({ access, refresh });
  session.user = user;
  await loadAccount(); // signed in: App moves on to nextPage()
}

/** Where to go after signing in: the ?next= page when it is one of ours. */
export function nextPage(): string {
  const next = route.query.get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

function clear(): void {
  session.status = 'signedOut';
  session.user = null;
  session.prefs = null;
  session.overview = null;
}

/** Re-reads the signed-in user (after a verification or an email change elsewhere). */
export async function reloadUser(): Promise<void> {
  if (session.status !== 'signedIn') return;
  const { data } = await api.GET('/api/dashboard/user/profile/');
  if (data) session.user = data;
}

/**
 * Ends the session in this browser only, without asking the server: for
 * when the server has already ended every session (a password reset).
 */
export function forgetSession(): void {
  tokens.set(null);
  clear();
}

export async function signOut(): Promise<void> {
  const current = tokens.get();
  if (current) {
    // Best effort: the session ends on the server; locally it ends anyway.
    await api.POST('/api/auth/logout/', { body: { refresh: current.refresh } }).catch(() => undefined);
  }
  tokens.set(null);
  clear();
  navigate('/signin', { replace: true });
}

onSignedOut(() => {
  clear();
  if (isOpenPath(location.pathname)) return; // those pages need no session
  toast(t('app.signedOut'), 'info');
  const here = location.pathname + location.search;
  navigate(`/signin${here !== '/' ? `?next=${encodeURIComponent(here)}` : ''}`, { replace: true });
});

/** Applies a preference change at once and saves it; reverts on failure. */
export async function savePrefs(patch: PreferencesPatch): Promise<boolean> {
  const before = session.prefs;
  if (!before) return false;
  applyPrefs({ ...before, ...(patch as Partial<Preferences>) });
  const { data } = await api.PATCH('/api/dashboard/user/preferences/', { body: patch });
  if (!data) {
    applyPrefs(before);
    toast(t('form.saveFailed'), 'error');
    return false;
  }
  applyPrefs(data);
  toast(t('form.saved'));
  return true;
}

// The typed API client (types generated from the server's OpenAPI document
// into schema.d.ts by `npm run gen:api`), over the refreshing fetch.
import createClient from 'openapi-fetch';
import { createAuthFetch, localTokenStore } from './auth-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type User = Schemas['User'];
export type Overview = Schemas['Overview'];
export type CallView = Schemas['CallView'];
export type CallDetail = Schemas['CallDetail'];
export type Preferences = Schemas['Preferences'];
export type PreferencesPatch = Schemas['PreferencesPatch'];
export type Problem = Schemas['ErrorModel'];

export const tokens = localTokenStore();

const signedOutListeners = new Set<() => void>();
export function onSignedOut(fn: () => void): void {
  signedOutListeners.add(fn);
}

export const authFetch = createAuthFetch({
  fetch: (req) => fetch(req),
  store: tokens,
  onSignedOut: () => signedOutListeners.forEach((fn) => fn()),
});

export const api = createClient<paths>({ baseUrl: location.origin, fetch: authFetch });

/**
 * Field errors of a problem document by field name ("body.email" → "email");
 * several refusals of one field (a password's) are joined.
 */
export function fieldErrors(problem: Problem | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of problem?.errors ?? []) {
    const field = (e.location ?? '').replace(/^body\./, '');
    const message = (e.message ?? '').trim();
    if (!field || !message) continue;
    const m = /[.!?]$/.test(message) ? message : `${message}.`;
    out[field] = out[field] ? `${out[field]} ${m}` : m;
  }
  return out;
}

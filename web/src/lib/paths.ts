// Pages a link in an email opens. They work signed in or signed out, show
// no shell, and never redirect: a verification link may be opened in any
// browser, and a session that ends meanwhile must not take the page away.
export const openPaths = ['/verify-email', '/forgot-password', '/reset-password', '/unsubscribe'] as const;
export type OpenPath = (typeof openPaths)[number];

/** The path without trailing slashes ("/" stays "/"). */
export function cleanPath(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}

export function isOpenPath(path: string): boolean {
  return (openPaths as readonly string[]).includes(cleanPath(path));
}

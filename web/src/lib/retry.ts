// How long a rate-limited client should wait, from a 429's Retry-After
// header (seconds or an HTTP date), in whole minutes for a message.

/** Whole minutes (at least 1) until a retry is allowed; fallback when the header is missing or unreadable. */
export function retryAfterMinutes(header: string | null | undefined, fallbackSeconds = 900, now: number = Date.now()): number {
  let seconds = fallbackSeconds;
  const h = header?.trim();
  if (h) {
    if (/^\d+$/.test(h)) seconds = Number(h);
    else {
      const at = Date.parse(h);
      if (!Number.isNaN(at)) seconds = (at - now) / 1000;
    }
  }
  return Math.max(1, Math.ceil(seconds / 60));
}

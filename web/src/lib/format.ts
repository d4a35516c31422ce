// Numbers, dates, durations and money through Intl, in the user's language
// and timezone. Digits are always Western (0-9), as Pakistani users expect.

export type DateFormat = 'DD/MM/YYYY' | 'MM/DD/YYYY' | 'YYYY-MM-DD' | 'DD-MM-YYYY' | 'DD.MM.YYYY' | 'D MMM YYYY';
export type TimeFormat = '12h' | '24h';

export interface FormatPrefs {
  lang: string;
  timeZone: string;
  dateFormat: DateFormat;
  timeFormat: TimeFormat;
}

/** The Intl locale of a language: Western digits whatever the language. */
export function intlLocale(lang: string): string {
  return `${lang === 'ur' ? 'ur-PK' : lang === 'en' ? 'en-GB' : lang}-u-nu-latn`;
}

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function numberFormat(lang: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${lang}|${JSON.stringify(opts)}`;
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(intlLocale(lang), opts);
    cache.set(key, f);
  }
  return f;
}
function dateFormat(lang: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${lang}|${JSON.stringify(opts)}`;
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(intlLocale(lang), opts);
    cache.set(key, f);
  }
  return f;
}

export function formatNumber(n: number, lang: string, maxFraction = 0): string {
  return numberFormat(lang, { maximumFractionDigits: maxFraction }).format(n);
}

/** A percentage given as 0-100 (the API's success_rate), one decimal at most. */
export function formatPercent(pct: number, lang: string): string {
  return numberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(pct / 100);
}

/** A signed relative change, like +12.5% or -3%. */
export function formatChange(pct: number, lang: string): string {
  return numberFormat(lang, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(pct / 100);
}

/** A duration as a clock: 0:42, 12:05, 1:02:09. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

// ISO 4217 minor units, where they are not 2 (locales may display fewer
// digits than the currency has, as ur-PK does for PKR).
const minorDigits: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0,
  XAF: 0, XOF: 0, XPF: 0, BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

/** Money in minor units (cents, paisa) of an ISO 4217 currency. */
export function formatMoney(amountMinor: number, currency: string, lang: string): string {
  const digits = minorDigits[currency.toUpperCase()] ?? 2;
  return numberFormat(lang, { style: 'currency', currency }).format(amountMinor / 10 ** digits);
}

function parts(d: Date, p: FormatPrefs, opts: Intl.DateTimeFormatOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of dateFormat(p.lang, { ...opts, timeZone: p.timeZone }).formatToParts(d)) out[part.type] = part.value;
  return out;
}

// Dates and times keep their left-to-right order inside right-to-left text
// (else "01/12 – 31/12" reads backwards): Unicode isolation marks around them.
function isolate(s: string, lang: string): string {
  return lang === 'ur' ? `\u2066${s}\u2069` : s;
}

/** A date in the user's timezone and date format. */
export function formatDate(value: string | Date, p: FormatPrefs): string {
  return isolate(plainDate(value, p), p.lang);
}

function plainDate(value: string | Date, p: FormatPrefs): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (p.dateFormat === 'D MMM YYYY') {
    const x = parts(d, p, { day: 'numeric', month: 'short', year: 'numeric' });
    return `${x.day} ${x.month} ${x.year}`;
  }
  const x = parts(d, p, { day: '2-digit', month: '2-digit', year: 'numeric' });
  const [dd, mm, yyyy] = [x.day ?? '', x.month ?? '', x.year ?? ''];
  switch (p.dateFormat) {
    case 'MM/DD/YYYY':
      return `${mm}/${dd}/${yyyy}`;
    case 'YYYY-MM-DD':
      return `${yyyy}-${mm}-${dd}`;
    case 'DD-MM-YYYY':
      return `${dd}-${mm}-${yyyy}`;
    case 'DD.MM.YYYY':
      return `${dd}.${mm}.${yyyy}`;
    default:
      return `${dd}/${mm}/${yyyy}`;
  }
}

/** A calendar day given as YYYY-MM-DD (already in the user's timezone). */
export function formatDay(ymd: string, p: FormatPrefs): string {
  // Noon UTC of that day is the same calendar day in every timezone that
  // formatting in UTC then shows.
  return formatDate(new Date(`${ymd}T12:00:00Z`), { ...p, timeZone: 'UTC' });
}

/** A time of day in the user's timezone and 12/24-hour clock. */
export function formatTime(value: string | Date, p: FormatPrefs): string {
  return isolate(plainTime(value, p), p.lang);
}

function plainTime(value: string | Date, p: FormatPrefs): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  return dateFormat(p.lang, {
    hour: p.timeFormat === '24h' ? '2-digit' : 'numeric',
    minute: '2-digit',
    hourCycle: p.timeFormat === '24h' ? 'h23' : 'h12',
    timeZone: p.timeZone,
  }).format(d);
}

export function formatDateTime(value: string | Date, p: FormatPrefs): string {
  return isolate(`${plainDate(value, p)} ${plainTime(value, p)}`, p.lang);
}

/** A short day label for a chart axis (5 Mar), from YYYY-MM-DD. */
export function formatAxisDay(ymd: string, lang: string): string {
  return isolate(dateFormat(lang, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${ymd}T12:00:00Z`)), lang);
}

/** Today's date (YYYY-MM-DD) in a timezone. */
export function todayIn(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

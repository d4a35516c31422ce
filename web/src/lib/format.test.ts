import { describe, expect, it } from 'vitest';
import { formatAxisDay, formatChange, formatDate, formatDateTime, formatDay, formatDuration, formatMoney, formatNumber, formatPercent, formatTime, todayIn, type FormatPrefs } from './format';

const karachi: FormatPrefs = { lang: 'en', timeZone: 'Asia/Karachi', dateFormat: 'DD/MM/YYYY', timeFormat: '12h' };
const urdu: FormatPrefs = { ...karachi, lang: 'ur' };
const westernDigits = /^[^\u0660-\u0669\u06F0-\u06F9]*$/;

describe('formatDate and formatTime', () => {
  // 21:30 UTC on 31 Dec is already 1 Jan in Karachi (UTC+5).
  const t = '2026-12-31T21:30:00Z';
  it.each([
    ['DD/MM/YYYY', '01/01/2027'],
    ['MM/DD/YYYY', '01/01/2027'],
    ['YYYY-MM-DD', '2027-01-01'],
    ['DD-MM-YYYY', '01-01-2027'],
    ['DD.MM.YYYY', '01.01.2027'],
    ['D MMM YYYY', '1 Jan 2027'],
  ] as const)('%s in the user timezone', (dateFormat, want) => {
    expect(formatDate(t, { ...karachi, dateFormat })).toBe(want);
  });
  it('uses the 12 or 24 hour clock', () => {
    expect(formatTime(t, { ...karachi, timeFormat: '24h' })).toBe('02:30');
    expect(formatTime(t, karachi).toLowerCase().replace(/\s/g, ' ')).toBe('2:30 am');
  });
  it('keeps Western digits in Urdu', () => {
    const s = formatDateTime(t, { ...urdu, dateFormat: 'D MMM YYYY' });
    expect(s).toMatch(westernDigits);
    expect(s).toContain('2027');
    expect(s).toMatch(/[\u0600-\u06FF]/); // the month name is Urdu
  });
  it('isolates dates and times as left-to-right runs in Urdu only', () => {
    expect(formatDate(t, urdu)).toBe('\u206601/01/2027\u2069');
    expect(formatDate(t, karachi)).toBe('01/01/2027');
  });
  it('formats a calendar day as that day in any timezone', () => {
    expect(formatDay('2026-03-05', { ...karachi, timeZone: 'Pacific/Kiritimati' })).toBe('05/03/2026');
    expect(formatDay('2026-03-05', { ...karachi, timeZone: 'Pacific/Pago_Pago' })).toBe('05/03/2026');
  });
  it('labels chart days briefly', () => {
    expect(formatAxisDay('2026-03-05', 'en')).toBe('5 Mar');
    expect(formatAxisDay('2026-03-05', 'ur')).toMatch(/^\u20665 [\u0600-\u06FF]+\u2069$/);
  });
  it('knows today in a timezone', () => {
    expect(todayIn('Asia/Karachi', new Date('2026-12-31T21:30:00Z'))).toBe('2027-01-01');
    expect(todayIn('UTC', new Date('2026-12-31T21:30:00Z'))).toBe('2026-12-31');
  });
});

describe('numbers', () => {
  it('groups and keeps Western digits', () => {
    expect(formatNumber(1234567, 'en')).toBe('1,234,567');
    expect(formatNumber(1234567, 'ur')).toMatch(westernDigits);
    expect(formatNumber(1234567, 'ur').replace(/[^0-9]/g, '')).toBe('1234567');
  });
  it('formats API percentages (0-100) and signed changes', () => {
    expect(formatPercent(87.5, 'en')).toBe('87.5%');
    expect(formatPercent(0, 'en')).toBe('0%');
    expect(formatChange(12.5, 'en')).toBe('+12.5%');
    expect(formatChange(-3, 'en')).toBe('-3%');
    expect(formatChange(0, 'en')).toBe('0%');
    expect(formatPercent(87.5, 'ur')).toMatch(westernDigits);
  });
  it.each([
    [0, '0:00'],
    [42, '0:42'],
    [725, '12:05'],
    [3729, '1:02:09'],
    [-5, '0:00'],
  ])('duration %i s is %s', (s, want) => {
    expect(formatDuration(s)).toBe(want);
  });
  it('formats money from minor units by currency', () => {
    expect(formatMoney(12345, 'USD', 'en')).toBe('US$123.45');
    expect(formatMoney(500, 'JPY', 'en')).toBe('JP¥500');
    expect(formatMoney(250000, 'PKR', 'ur')).toMatch(westernDigits);
    expect(formatMoney(250000, 'PKR', 'ur').replace(/[^0-9.,]/g, '')).toMatch(/^2,500(\.00)?$/);
    expect(formatMoney(1500, 'KWD', 'en')).toContain('1.500');
  });
});

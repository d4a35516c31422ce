import { describe, expect, it } from 'vitest';
import { retryAfterMinutes } from './retry';

describe('retryAfterMinutes', () => {
  const now = Date.parse('2026-12-02T08:00:00Z');
  const cases: [string, string | null, number][] = [
    ['seconds, rounded up', '61', 2],
    ['exact minutes', '120', 2],
    ['under a minute is one minute', '5', 1],
    ['zero is still one minute', '0', 1],
    ['an HTTP date', 'Wed, 02 Dec 2026 08:10:00 GMT', 10],
    ['a date in the past', 'Wed, 02 Dec 2026 07:00:00 GMT', 1],
    ['missing: the fallback', null, 15],
    ['garbage: the fallback', 'soon', 15],
    ['negative number is not seconds: the fallback', '-30', 15],
  ];
  for (const [name, header, want] of cases) it(name, () => expect(retryAfterMinutes(header, 900, now)).toBe(want));
});

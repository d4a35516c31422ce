import { describe, expect, it } from 'vitest';
import { passwordScore } from './password';

describe('passwordScore', () => {
  it.each([
    ['', 0],
    ['short1!', 0],
    ['password', 0],
    ['Password123', 0],
    ['aaaaaaaaaaaa', 1],
    ['abcdefghijkl', 1],
    ['plainword', 2],
    ['Pakeezah2026', 3],
    ['tulip river', 2],
    ['correct horse battery staple!', 4],
    ['T9#vq!Lm2@xR', 4],
  ] as const)('%s scores %i', (pw, want) => {
    expect(passwordScore(pw)).toBe(want);
  });
  it('marks passwords containing the user’s name or email down', () => {
    expect(passwordScore('ayesha-khan-2026!', ['Ayesha', 'Khan', 'ayesha.k'])).toBe(1);
    expect(passwordScore('tulip river candle 9', ['Ayesha', 'Khan'])).toBeGreaterThanOrEqual(3);
  });
});

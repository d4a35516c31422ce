import { describe, expect, it, vi } from 'vitest';

vi.stubGlobal('location', new URL('http://localhost/'));
const { fieldErrors } = await import('./client');

describe('fieldErrors', () => {
  it('maps body locations to fields and joins several refusals', () => {
    expect(
      fieldErrors({
        type: 'about:blank',
        status: 422,
        errors: [
          { location: 'body.password', message: 'too easy to guess' },
          { location: 'body.password', message: 'must not contain your name.' },
          { location: 'body.email', message: 'already registered' },
          { location: '', message: 'ignored' },
        ],
      }),
    ).toEqual({ password: 'too easy to guess. must not contain your name.', email: 'already registered.' });
  });
  it('is empty without errors', () => {
    expect(fieldErrors(undefined)).toEqual({});
    expect(fieldErrors({ type: 'about:blank', status: 500 })).toEqual({});
  });
});

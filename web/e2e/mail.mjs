// Reads the mail the e2e binary writes as .eml files (it runs without SMTP:
// internal/mail/files.go) to follow the links in it, as a user would.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Decodes quoted-printable text (soft line breaks, =XX bytes) as UTF-8. */
export function decodeQuotedPrintable(raw) {
  const src = raw.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < src.length; i++) {
    const hex = src.slice(i + 1, i + 3);
    if (src[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(src.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Waits for the newest message in dir addressed to `to` whose decoded text
 * matches `link` (a RegExp with one group), written after `since` (ms), and
 * returns that group.
 */
export async function waitForLink(dir, { to, link, since = 0, timeout = 20_000 }) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (existsSync(dir)) {
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.eml'))
        .map((f) => ({ path: join(dir, f), at: statSync(join(dir, f)).mtimeMs }))
        .filter((f) => f.at >= since)
        .sort((a, b) => b.at - a.at || b.path.localeCompare(a.path));
      for (const f of files) {
        const text = decodeQuotedPrintable(readFileSync(f.path, 'latin1'));
        if (!text.toLowerCase().includes(to.toLowerCase())) continue;
        const m = text.match(link);
        if (m) return m[1];
      }
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${link} in ${dir}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

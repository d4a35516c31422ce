// End-to-end: the real binary on a fresh database, driven in Debian's
// Chromium through playwright-core. Registers, sees the empty dashboard,
// ingests calls through the platform API, finds them in the table, filters,
// searches, opens a detail, switches to Urdu (dir=rtl) and dark, signs out.
// Mail (written as files: no SMTP here) gives the links a user would follow:
// verifying the address, changing it, resetting a forgotten password.
// axe-core checks each page (no serious or critical violations), and any
// Content-Security-Policy violation fails the run. Screenshots at phone and
// desktop sizes go to e2e/out/; the two the README shows go to screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { waitForLink } from './mail.mjs';
import { chromiumArgs, chromiumPath, startServer } from './server.mjs';

const here = import.meta.dirname;
const out = join(here, 'out');
const shots = resolve(here, '../screenshots');
mkdirSync(out, { recursive: true });
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const phone = { width: 390, height: 844 };
const desktop = { width: 1440, height: 900 };

let failures = 0;
async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}\n${err?.stack ?? err}`);
    throw err;
  }
}

const axeReport = [];
async function axe(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  axeReport.push(`${label}: ${result.violations.length} violations, ${bad.length} serious/critical`);
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`),
    [],
    `axe on ${label}`,
  );
}

/** A small solid-colour PNG (for the avatar upload). */
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, Buffer.from([15, 118, 110]))]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** GET an API path as the page's signed-in user. */
function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const { access } = JSON.parse(localStorage.getItem('callboard.session') ?? '{}');
    return (await fetch(p, { headers: { Authorization: `Bearer ${access}` } })).json();
  }, path);
}

function days(n) {
  return new Date(Date.now() - n * 86_400_000);
}

/** Calls spread over the last 30 days: two agents, every status. */
function sampleCalls(email) {
  const statuses = ['completed', 'completed', 'completed', 'no-answer', 'failed', 'completed', 'busy', 'completed'];
  const calls = [];
  for (let i = 0; i < 48; i++) {
    const start = days(i % 28);
    start.setUTCHours(4 + (i % 10), (i * 7) % 60, 0, 0);
    const status = statuses[i % statuses.length];
    const dur = status === 'completed' ? 60 + ((i * 37) % 400) : 0;
    const end = new Date(start.getTime() + (dur + 15) * 1000);
    calls.push({
      external_id: `e2e-${i}`,
      user_email: email,
      agent: i % 3 === 0 ? { external_id: 'ag-sales', name: 'Sana (Sales)', voice: 'alloy' } : { external_id: 'ag-support', name: 'Bilal (Support)', voice: 'verse' },
      direction: i % 2 ? 'outbound' : 'inbound',
      from_number: i % 2 ? '+924235550100' : `+92300${String(1000000 + i).padStart(7, '0')}`,
      to_number: i % 2 ? `+92321${String(2000000 + i).padStart(7, '0')}` : '+924235550100',
      status,
      started_at: start.toISOString(),
      answered_at: status === 'completed' ? new Date(start.getTime() + 5000).toISOString() : null,
      ended_at: end.toISOString(),
      duration_seconds: dur,
      satisfaction: status === 'completed' ? 1 + (i % 5) : null,
      summary: i % 4 === 0 ? `Customer asked for a refund on order ${1000 + i}.` : `Delivery time confirmed for order ${1000 + i}.`,
      transcript: `Agent: Assalam o alaikum, how can I help?\nCustomer: About order ${1000 + i}.`,
      sentiment: i % 3 === 0 ? 'positive' : 'neutral',
      end_reason: status === 'completed' ? 'customer-ended' : status,
      cost: { amount: 25 + i, currency: 'USD' },
    });
  }
  return calls;
}

const server = await startServer();
const mailDir = join(server.dataDir, 'mail');
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
const cspViolations = [];
const consoleErrors = [];
const email = `ayesha.e2e.${Date.now()}@example.com`;
const password = 'tulip-river-candle-harbor-91';
const newEmail = `ayesha.new.${Date.now()}@example.com`;
const newPassword = 'amber-violin-glacier-meadow-37';
const calls = sampleCalls(email);

try {
  const context = await browser.newContext({ viewport: desktop, locale: 'en-GB', timezoneId: 'Asia/Karachi', colorScheme: 'light' });
  const page = await context.newPage();
  const watch = (p) =>
    p.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      if (/Content.Security.Policy/i.test(msg.text())) cspViolations.push(msg.text());
      else consoleErrors.push(msg.text());
    });
  watch(page);
  const url = (p) => server.base + p;

  await step('signed out: / shows sign-in', async () => {
    await page.goto(url('/'));
    await page.waitForURL(/\/signin$/);
    await page.getByRole('heading', { name: 'Sign in to Callboard' }).waitFor();
    await axe(page, 'sign in (en, light)');
  });

  await step('register: the server’s field errors appear beside the field', async () => {
    await page.getByRole('link', { name: 'Register' }).click();
    await page.waitForURL(/\/register$/);
    await page.getByLabel('First name').fill('Ayesha');
    await page.getByLabel('Last name').fill('Khan');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill('ayeshakhan1');
    await page.getByRole('meter', { name: 'Password strength' }).waitFor({ state: 'attached' });
    await axe(page, 'register (en, light)');
    await page.getByRole('button', { name: 'Register' }).click();
    const err = page.locator('#password-error');
    await err.waitFor();
    assert.ok((await err.textContent()).trim().length > 0, 'password error text');
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
  });

  await step('register: a good password signs in to an empty dashboard', async () => {
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForURL(url('/'));
    await page.getByRole('heading', { name: 'No calls yet' }).waitFor();
    await page.getByRole('button', { name: 'Account menu' }).waitFor();
    // Sections whose data the server has appear; the others do not.
    const overview = await apiGet(page, '/api/dashboard/user/');
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Subscription' }).count(), overview.subscription ? 1 : 0, 'Subscription in the menu iff the data exists');
    assert.equal(await nav.getByRole('link', { name: 'Notifications' }).count(), overview.unread_notifications === null ? 0 : 1, 'Notifications in the menu iff the data exists');
    if (overview.subscription) {
      await page.getByRole('heading', { name: 'Subscription' }).waitFor();
      await page.getByText(overview.subscription.plan, { exact: true }).first().waitFor();
    }
    if (overview.billing_summary?.included_minutes > 0) {
      assert.equal(await page.getByRole('meter', { name: 'Minutes this period' }).getAttribute('aria-valuemax'), String(overview.billing_summary.included_minutes));
    }
    await axe(page, 'dashboard, empty (en, light)');
  });

  await step('verify: the banner asks until the link from the mail is opened; then the profile says verified', async () => {
    const banner = page.getByRole('region', { name: 'Your email address is not verified yet.' });
    await banner.waitFor();
    const since = Date.now();
    await banner.getByRole('button', { name: 'Resend verification email' }).click();
    await banner.getByText(`We sent a new link to ${email}.`).waitFor();
    const token = await waitForLink(mailDir, { to: email, link: /\/verify-email#token=([\w.~%-]+)/, since: since - 1000 });
    await banner.getByRole('button', { name: 'Dismiss this message' }).click();
    await banner.waitFor({ state: 'detached' });
    await page.reload();
    await page.getByRole('heading', { name: 'No calls yet' }).waitFor();
    assert.equal(await banner.count(), 0, 'dismissed for this session');

    await page.goto(url('/profile'));
    assert.equal((await page.locator('#email-status').textContent()).trim(), 'Not verified');
    await page.getByRole('button', { name: 'Resend verification email' }).waitFor();
    assert.equal(await banner.count(), 0, 'the profile has its own resend, not the banner');
    await axe(page, 'profile, unverified (en, light)');

    await page.goto(url(`/verify-email#token=${token}`));
    await page.getByRole('heading', { name: 'Email verified' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token left the address bar');
    assert.equal(new URL(page.url()).pathname, '/verify-email', 'no redirect');
    await page.getByText(`${email} is verified. Thank you!`).waitFor();
    await axe(page, 'verify email, done (en, light)');
    await page.getByRole('link', { name: 'Go to the dashboard' }).click();
    await page.waitForURL(url('/'));
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(url('/profile'));
    await page.getByRole('heading', { name: 'Email address' }).waitFor();
    assert.equal((await page.locator('#email-status').textContent()).trim(), 'Verified');
    assert.equal(await page.getByRole('button', { name: 'Resend verification email' }).count(), 0);
    await page.goto(url('/'));
    await page.getByRole('heading', { name: 'No calls yet' }).waitFor();
    assert.equal(await banner.count(), 0, 'no banner once verified');

    // A link works once.
    await page.goto(url(`/verify-email#token=${token}`));
    await page.getByText('This verification link has expired or was already used.').waitFor();
    await page.getByText('Your email address is already verified.').waitFor();
    await axe(page, 'verify email, used link (en, light)');
    await page.goto(url('/'));
    await page.getByRole('heading', { name: 'No calls yet' }).waitFor();
  });

  // Calls are routed by email only to a verified address: the step above verified it.
  await step('ingest calls through the platform API (by email: verified above)', async () => {
    const res = await fetch(url('/api/platform/calls/'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Platform-Key': server.platformKey },
      body: JSON.stringify({ calls }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = await res.json();
    assert.equal(body.created, calls.length, JSON.stringify(body.results?.filter((r) => r.status === 'error')));
  });

  await step('the dashboard shows them (cards, chart with a text alternative, recent calls)', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Recent calls' }).waitFor();
    await page.locator('.uplot canvas').first().waitFor();
    assert.match(await page.locator('figcaption').textContent(), /48 calls in the last 30 days/);
    assert.equal(await page.getByRole('heading', { name: 'No calls yet' }).count(), 0);
    await axe(page, 'dashboard (en, light)');
    await page.screenshot({ path: join(out, 'dashboard-desktop-en.png') });
    await page.screenshot({ path: join(shots, 'desktop-en.png') });
  });

  await step('keyboard: skip link, menu with arrows and Escape, focus moves to the new page', async () => {
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'main');
    await page.getByRole('button', { name: 'Account menu' }).focus();
    await page.keyboard.press('Enter');
    const menu = page.getByRole('menu');
    await menu.waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.includes('Account menu')), true, 'focus back on the menu button');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/profile$/);
    await page.waitForFunction(() => document.activeElement?.id === 'main');
    await page.goBack();
    await page.waitForURL(url('/'));
  });

  await step('calls: the table lists them, paged', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Calls' }).click();
    await page.waitForURL(/\/calls$/);
    await page.getByText('48 calls').waitFor();
    assert.equal(await page.locator('tbody tr').count(), 20);
    await axe(page, 'calls (en, light)');
    const first = await page.locator('tbody tr a').first().textContent();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForURL(/cursor=/);
    await page.waitForFunction((f) => document.querySelector('tbody tr a')?.textContent !== f, first);
    assert.equal(await page.locator('tbody tr').count(), 20);
    await page.getByText('48 calls').waitFor(); // kept from the first page
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 8);
    assert.ok(await page.getByRole('button', { name: 'Next' }).isDisabled());
    await page.goBack();
    await page.goBack();
    await page.waitForURL(/\/calls$/);
    await page.getByText('Page 1').waitFor();
    await page.waitForFunction((f) => document.querySelector('tbody tr a')?.textContent === f, first);
  });

  await step('calls: filter by status, kept in the URL', async () => {
    await page.getByLabel('Status').selectOption('failed');
    await page.waitForURL(/status=failed/);
    const want = calls.filter((c) => c.status === 'failed').length;
    await page.getByText(`${want} calls`).waitFor();
    const badges = await page.locator('tbody tr td:nth-child(4)').allTextContents();
    assert.equal(badges.length, want);
    assert.ok(badges.every((b) => b.trim() === 'Failed'), badges.join());
  });

  await step('calls: debounced search, back button restores the list', async () => {
    await page.getByLabel('Status').selectOption('');
    await page.waitForURL(/\/calls$/);
    await page.getByLabel('Search').fill('refund');
    await page.waitForURL(/search=refund/);
    const want = calls.filter((c) => c.summary.includes('refund')).length;
    await page.getByText(`${want} calls`).waitFor();
    assert.equal(await page.locator('tbody tr').count(), want);
    await page.goBack();
    await page.waitForURL(/\/calls$/);
    await page.getByText('48 calls').waitFor();
    assert.equal(await page.getByLabel('Search').inputValue(), '');
    await page.goForward();
    await page.waitForURL(/search=refund/);
    await page.getByText(`${want} calls`).waitFor();
  });

  await step('calls: a detail panel opens, in the URL, and closes with Escape', async () => {
    await page.locator('tbody tr a').first().click();
    await page.waitForURL(/call=\d+/);
    const dialog = page.getByRole('dialog', { name: 'Call details' });
    await dialog.waitFor();
    await dialog.getByText('refund').first().waitFor();
    await dialog.getByText('Transcript').waitFor();
    await axe(page, 'call detail (en, light)');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.doesNotMatch(page.url(), /call=/);
  });

  await step('calls: CSV export downloads the filtered calls', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
    const path = await download.path();
    const csv = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(csv.length - 1, calls.filter((c) => c.summary.includes('refund')).length, 'rows in CSV');
    await page.getByText('Export downloaded.').waitFor();
  });

  await step('an expired access token is refreshed invisibly', async () => {
    const before = await page.evaluate(() => JSON.parse(localStorage.getItem('callboard.session') ?? 'null'));
    assert.ok(before?.refresh, 'signed in with tokens');
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('callboard.session') ?? '{}');
      localStorage.setItem('callboard.session', JSON.stringify({ ...s, access: 'expired.token.value' }));
    });
    const refreshes = [];
    page.on('request', (r) => r.url().endsWith('/api/auth/refresh/') && refreshes.push(r.url()));
    await page.goto(url('/calls'));
    await page.getByText('48 calls').waitFor(); // several requests got a 401 at once
    const after = await page.evaluate(() => JSON.parse(localStorage.getItem('callboard.session') ?? 'null'));
    assert.notEqual(after.refresh, before.refresh, 'the refresh token rotated');
    assert.equal(refreshes.length, 1, 'one refresh for all the 401s');
    assert.equal(await page.getByRole('alert').count(), 0);
  });

  await step('profile: edit the phone, upload an avatar with a preview', async () => {
    await page.goto(url('/profile'));
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    await page.getByLabel('Phone (optional)').fill('0300 1234567');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    assert.equal(await page.getByLabel('Phone (optional)').inputValue(), '+923001234567');
    await page.getByLabel('Phone (optional)').fill('12');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#phone-error').waitFor();
    await page.locator('input[type=file]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(64, 48) });
    await page.getByRole('img', { name: 'Preview' }).waitFor();
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Avatar updated.').waitFor();
    await page.locator('header img[src^="/media/avatars/"]').waitFor();
    await axe(page, 'profile (en, light)');
  });

  await step('settings: auto theme follows the device live', async () => {
    await page.goto(url('/settings'));
    await page.getByLabel('Auto (follows your device)').check();
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  });

  await step('settings: layout and widgets shape the dashboard', async () => {
    await page.getByLabel('Detailed').check();
    await page.getByText('Saved.').first().waitFor();
    await page.getByLabel('Show Trend chart').uncheck();
    await page.getByRole('button', { name: 'Move Agents up' }).click();
    await page.waitForFunction(() => document.activeElement?.id === 'w-up-agents');
    await page.goto(url('/'));
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    assert.equal(await page.locator('.uplot').count(), 0, 'the hidden trend is not drawn');
    const headings = await page.locator('main h2').allTextContents();
    // Default order: stats, trend, recent calls, subscription, billing, quick stats, agents, notifications;
    // agents moved up one; notifications show when the server counts them.
    const { unread_notifications: unread } = await apiGet(page, '/api/dashboard/user/');
    assert.deepEqual(headings, [
      'Call statistics',
      'Recent calls',
      'Subscription',
      'Billing',
      'Agents',
      'Quick stats',
      ...(unread === null ? [] : ['Notifications']),
    ]);
    await page.getByText('All time').waitFor(); // the detailed layout's extra cards
    await page.goto(url('/settings'));
    await page.getByLabel('Default').check();
    await page.getByLabel('Show Trend chart').check();
    await page.waitForFunction(() => document.querySelector('#w-up-trend') !== null);
  });

  await step('settings: Urdu switches to right-to-left without a reload', async () => {
    await page.goto(url('/settings'));
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await axe(page, 'settings (en, light)');
    await page.evaluate(() => (window.__noReload = true));
    await page.getByLabel('اردو').check();
    await page.waitForFunction(() => document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ur');
    await page.getByRole('heading', { name: 'ترتیبات' }).waitFor();
    assert.equal(await page.evaluate(() => window.__noReload), true, 'no reload');
  });

  await step('settings: dark theme applies at once', async () => {
    await page.getByLabel('ڈارک').check();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await axe(page, 'settings (ur, dark)');
  });

  await step('Urdu and dark survive a reload (they are preferences)', async () => {
    await page.goto(url('/'));
    await page.waitForFunction(() => document.documentElement.dir === 'rtl' && document.documentElement.dataset.theme === 'dark');
    await page.getByRole('heading', { name: 'حالیہ کالز' }).waitFor();
    await axe(page, 'dashboard (ur, dark)');
    await page.goto(url('/calls'));
    await page.locator('tbody tr').first().waitFor();
    await axe(page, 'calls (ur, dark)');
  });

  await step('phone: Urdu dashboard at 390×844 with the menu drawer', async () => {
    const phoneCtx = await browser.newContext({
      viewport: phone,
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'ur-PK',
      timezoneId: 'Asia/Karachi',
      storageState: await context.storageState(),
    });
    const p = await phoneCtx.newPage();
    await p.goto(url('/'));
    await p.getByRole('heading', { name: 'حالیہ کالز' }).waitFor();
    await p.locator('.uplot canvas').first().waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
    await p.screenshot({ path: join(out, 'dashboard-phone-ur.png') });
    await p.screenshot({ path: join(shots, 'phone-ur.png') });
    await p.getByRole('button', { name: 'مینو کھولیں' }).click();
    await p.getByRole('dialog').waitFor();
    await p.keyboard.press('Escape');
    await p.getByRole('dialog').waitFor({ state: 'detached' });
    await p.getByRole('button', { name: 'مینو کھولیں' }).click();
    await p.getByRole('dialog').getByRole('link', { name: 'کالز' }).click();
    await p.waitForURL(/\/calls$/);
    await p.locator('tbody tr').first().waitFor();
    const callsOverflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(callsOverflow <= 0, `the calls table scrolls inside its card, not the page (overflow ${callsOverflow}px)`);
    await axe(p, 'calls, phone (ur, dark)');
    await p.screenshot({ path: join(out, 'calls-phone-ur.png') });
    await phoneCtx.close();
  });

  await step('desktop screenshots of each page', async () => {
    for (const [name, path] of [['calls', '/calls'], ['settings', '/settings'], ['profile', '/profile']]) {
      await page.goto(url(path));
      await page.locator('h1').waitFor();
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: join(out, `${name}-desktop-ur.png`) });
    }
  });

  await step('sign out ends the session', async () => {
    await page.goto(url('/'));
    await page.getByRole('contentinfo').getByRole('button', { name: 'سائن آؤٹ' }).click();
    await page.waitForURL(/\/signin$/);
    const tokens = await page.evaluate(() => localStorage.getItem('callboard.session'));
    assert.equal(tokens, null);
    await page.goto(url('/calls'));
    await page.waitForURL(/\/signin\?next=%2Fcalls$/);
  });

  await step('sign in returns to where the visitor was going', async () => {
    await page.getByLabel('ای میل').fill(email);
    await page.getByLabel('پاس ورڈ').fill(password);
    await page.getByRole('button', { name: 'سائن ان' }).click();
    await page.waitForURL(/\/calls$/);
    await page.locator('tbody tr').first().waitFor();
  });

  await step('change email: wrong password beside its field, then the link to the new address moves the account', async () => {
    await page.goto(url('/profile'));
    await page.locator('#new_email').waitFor();
    await page.locator('#new_email').fill(newEmail);
    await page.locator('#email_password').fill('not-my-password-at-all');
    await page.locator('#change-email-title').scrollIntoViewIfNeeded();
    await page.locator('form[aria-labelledby="change-email-title"] button[type=submit]').click();
    await page.locator('#email_password-error').waitFor();
    assert.equal(await page.locator('#email_password').getAttribute('aria-invalid'), 'true');
    await axe(page, 'profile, change email error (ur, dark)');
    const since = Date.now();
    await page.locator('#email_password').fill(password);
    await page.locator('form[aria-labelledby="change-email-title"] button[type=submit]').click();
    await page.locator('form[aria-labelledby="change-email-title"] [role=status] bdi', { hasText: newEmail }).waitFor();
    const token = await waitForLink(mailDir, { to: newEmail, link: /\/verify-email#token=([\w.~%-]+)/, since: since - 1000 });
    await page.goto(url(`/verify-email#token=${token}`));
    await page.locator('[role=status] bdi', { hasText: newEmail }).waitFor();
    await axe(page, 'verify email, done (ur, dark)');
    await page.goto(url('/profile'));
    await page.locator('bdi', { hasText: newEmail }).first().waitFor();
  });

  await step('unsubscribe: the link in product news opens a page; only its button unsubscribes', async () => {
    const patched = await page.evaluate(async () => {
      const { access } = JSON.parse(localStorage.getItem('callboard.session') ?? '{}');
      const res = await fetch('/api/dashboard/user/settings/', {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${access}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ notifications: { marketing: true } }),
      });
      return res.status;
    });
    assert.equal(patched, 200, 'marketing on');
    const dir = mkdtempSync(join(tmpdir(), 'callboard-news-'));
    writeFileSync(join(dir, 'en.txt'), 'Every call now gets a summary.\n');
    writeFileSync(join(dir, 'ur.txt'), 'اب ہر کال کا خلاصہ بنتا ہے۔\n');
    const since = Date.now();
    server.cli(['announce', '--subject-en', 'Call summaries', '--subject-ur', 'کال کا خلاصہ', '--body-en-file', join(dir, 'en.txt'), '--body-ur-file', join(dir, 'ur.txt')]);
    const token = await waitForLink(mailDir, { to: newEmail, link: /\/unsubscribe\?token=([\w.~%-]+)/, since: since - 1000 });
    const marketing = async () => (await apiGet(page, '/api/dashboard/user/settings/')).notifications.marketing;

    const other = await browser.newContext({ viewport: phone, locale: 'en-GB', colorScheme: 'dark' });
    const p = await other.newPage();
    watch(p);
    const posts = [];
    p.on('request', (r) => r.url().includes('/api/mail/unsubscribe/') && posts.push(r.method()));
    await p.goto(url(`/unsubscribe?token=${token}`));
    await p.getByRole('heading', { name: 'Unsubscribe from marketing email' }).waitFor();
    assert.equal(new URL(p.url()).pathname, '/unsubscribe', 'signed out, no redirect');
    await axe(p, 'unsubscribe (en, dark)');
    assert.deepEqual(posts, [], 'opening the page sends nothing');
    assert.equal(await marketing(), true, 'opening the page unsubscribes nobody');
    await p.getByRole('button', { name: 'Unsubscribe' }).click();
    await p.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
    assert.deepEqual(posts, ['POST']);
    assert.equal(await marketing(), false, 'the button unsubscribed');
    await axe(p, 'unsubscribe, done (en, dark)');

    await p.goto(url('/unsubscribe?token=not-a-real-token'));
    await p.getByRole('button', { name: 'Unsubscribe' }).click();
    await p.getByText('This unsubscribe link is not valid.', { exact: false }).waitFor();
    await axe(p, 'unsubscribe, bad link (en, dark)');
    await p.goto(url('/unsubscribe'));
    await p.getByText('This unsubscribe link is not valid.', { exact: false }).waitFor();
    await other.close();
  });

  await step('forgot password: the link from the mail sets a new one and signs every session out', async () => {
    const other = await browser.newContext({ viewport: phone, locale: 'en-GB', timezoneId: 'Asia/Karachi', colorScheme: 'light' });
    const p = await other.newPage();
    watch(p);
    await p.goto(url('/signin'));
    await p.getByRole('link', { name: 'Forgot password?' }).click();
    await p.waitForURL(/\/forgot-password$/);
    await p.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await axe(p, 'forgot password (en, light)');
    await p.getByRole('button', { name: 'Send the link' }).click();
    await p.locator('#email-error').waitFor(); // empty: required
    const since = Date.now();
    await p.getByLabel('Email').fill(newEmail);
    await p.getByRole('button', { name: 'Send the link' }).click();
    await p.getByRole('heading', { name: 'Check your email' }).waitFor();
    await p.getByText(`If an account exists for ${newEmail}, we sent it a link to reset the password. The link is valid for 1 hour.`).waitFor();
    await axe(p, 'forgot password, sent (en, light)');
    // The same answer for an address without an account.
    await p.getByRole('button', { name: 'Send another link' }).click();
    await p.getByLabel('Email').fill(`nobody.${Date.now()}@example.com`);
    await p.getByRole('button', { name: 'Send the link' }).click();
    await p.getByRole('heading', { name: 'Check your email' }).waitFor();
    // In Urdu, right to left.
    await p.getByRole('button', { name: 'Send another link' }).click();
    await p.getByRole('button', { name: 'اردو' }).click();
    await p.waitForFunction(() => document.documentElement.dir === 'rtl');
    await p.getByRole('heading', { name: 'اپنا پاس ورڈ ری سیٹ کریں' }).waitFor();
    await axe(p, 'forgot password (ur, light)');
    await p.getByRole('button', { name: 'English' }).click();

    const token = await waitForLink(mailDir, { to: newEmail, link: /\/reset-password#token=([\w.~%-]+)/, since: since - 1000 });
    await p.goto(url(`/reset-password#token=${token}`));
    await p.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    assert.equal(new URL(p.url()).hash, '', 'the token left the address bar');
    await p.getByLabel('New password', { exact: true }).fill('tulip');
    await p.getByRole('meter', { name: 'Password strength' }).waitFor({ state: 'attached' });
    await p.getByLabel('Confirm the new password').fill('tulip-other');
    await p.getByRole('button', { name: 'Change password' }).click();
    await p.locator('#confirm-error').getByText('The passwords do not match.').waitFor();
    await p.getByLabel('Confirm the new password').fill('tulip');
    await p.getByRole('button', { name: 'Change password' }).click();
    const policy = p.locator('#new_password-error');
    await policy.waitFor(); // the server's password policy, beside the field
    assert.ok((await policy.textContent()).trim().length > 0);
    await axe(p, 'reset password, errors (en, light)');
    await p.getByLabel('New password', { exact: true }).fill(newPassword);
    await p.getByLabel('Confirm the new password').fill(newPassword);
    await p.getByRole('button', { name: 'Change password' }).click();
    await p.getByRole('heading', { name: 'Password changed' }).waitFor();
    await p.getByText('every session was signed out').waitFor();
    await axe(p, 'reset password, done (en, light)');

    // The first browser's session ended too.
    await page.goto(url('/calls'));
    await page.waitForURL(/\/signin\?next=%2Fcalls$/);

    await p.getByRole('link', { name: 'Sign in' }).click();
    await p.waitForURL(/\/signin$/);
    await p.getByLabel('Email').fill(newEmail);
    await p.getByLabel('Password', { exact: true }).fill(password);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByText('That email and password do not match an account.').waitFor();
    await p.getByLabel('Password', { exact: true }).fill(newPassword);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.waitForURL(url('/'));
    await p.getByRole('button', { name: /Account menu|اکاؤنٹ مینو/ }).waitFor();

    // A reset link works once.
    await p.goto(url(`/reset-password#token=${token}`));
    await p.locator('#new_password').fill(`${newPassword}-again`);
    await p.locator('#confirm').fill(`${newPassword}-again`);
    await p.locator('form button[type=submit]').click();
    await p.locator('a[href="/forgot-password"]').waitFor();
    await axe(p, 'reset password, used link');
    await other.close();
  });

  await step('no Content-Security-Policy violations, no console errors', async () => {
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(consoleErrors.filter((e) => !/status of 4\d\d/.test(e)), []);
  });
  await context.close();
} catch {
  // reported by step
} finally {
  await browser.close();
  await server.stop();
  console.log(`axe:\n  ${axeReport.join('\n  ')}`);
}
if (failures) {
  console.log(`${failures} e2e step failed`);
  process.exit(1);
}
console.log('e2e: all steps passed');

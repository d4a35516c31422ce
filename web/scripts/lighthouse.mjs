// Lighthouse's mobile audit (performance, accessibility, best practices) of
// the sign-in page and of the demo's dashboard, served by the real binary.
// Prints the scores; with --min N fails when one is below N.
// Chromium: CHROME_PATH (default /usr/bin/chromium).
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath, startServer } from '../e2e/server.mjs';

const minIdx = process.argv.indexOf('--min');
const min = minIdx > 0 ? Number(process.argv[minIdx + 1]) : 0;
const categories = ['performance', 'accessibility', 'best-practices'];

const server = await startServer({ demo: true });
const login = /email:\s+(\S+)\s+password:\s+(\S+)/.exec(server.stdout());
if (!login) throw new Error(`no demo login in:\n${server.stdout()}`);
const chrome = await chromeLauncher.launch({
  chromePath: chromiumPath,
  chromeFlags: chromiumArgs.filter((f) => f !== '--headless').concat(['--headless=new']),
});
let low = false;
try {
  const audit = async (label, path, signedIn) => {
    const result = await lighthouse(
      server.base + path,
      { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: categories, disableStorageReset: signedIn },
      undefined,
    );
    const lhr = result?.lhr;
    if (!lhr) throw new Error(`no Lighthouse result for ${label}`);
    if (lhr.runtimeError) throw new Error(`${label}: ${lhr.runtimeError.message}`);
    const scores = categories.map((c) => Math.round((lhr.categories[c]?.score ?? 0) * 100));
    const m = (id) => lhr.audits[id]?.displayValue ?? '-';
    console.log(
      `${label.padEnd(10)} performance ${scores[0]}  accessibility ${scores[1]}  best-practices ${scores[2]}` +
        `   (FCP ${m('first-contentful-paint')}, LCP ${m('largest-contentful-paint')}, TBT ${m('total-blocking-time')}, CLS ${m('cumulative-layout-shift')})`,
    );
    for (const c of categories) {
      for (const ref of lhr.categories[c]?.auditRefs ?? []) {
        const a = lhr.audits[ref.id];
        if (ref.weight > 0 && a && a.score !== null && a.score < 0.9) console.log(`    ${c}: ${a.id} ${a.score} ${a.displayValue ?? ''}`);
      }
    }
    if (process.env.LH_DETAIL) {
      for (const id of ['bootup-time', 'mainthread-work-breakdown', 'long-tasks']) {
        const items = lhr.audits[id]?.details?.items ?? [];
        console.log(`    ${id}: ${items.slice(0, 6).map((i) => `${i.url ?? i.groupLabel ?? ''} ${Math.round(i.total ?? i.duration ?? 0)}ms`).join('; ')}`);
      }
    }
    if (scores.some((s) => s < min)) low = true;
  };

  await audit('sign in', '/signin', false);

  // Sign in once in the same browser; the audit keeps its storage.
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${chrome.port}`);
  const page = await browser.contexts()[0].newPage();
  await page.goto(`${server.base}/signin`);
  await page.locator('#email').fill(login[1]);
  await page.locator('#password').fill(login[2]);
  await page.locator('button[type=submit]').click();
  await page.waitForURL(`${server.base}/`);
  await page.close();
  await browser.close();

  await audit('dashboard', '/', true);
} finally {
  await chrome.kill();
  await server.stop();
}
if (low) {
  console.error(`a score is below ${min}`);
  process.exit(1);
}

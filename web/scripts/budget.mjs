// The size budget of a first load, per page: the gzipped JavaScript and CSS
// a browser fetches to show it (entry, shell, page, and their static
// imports, from Vite's manifest), and the fonts. Fails when over budget.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = join(import.meta.dirname, '..', 'dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));

// KB, gzipped (fonts: raw woff2 bytes, already compressed).
const budgets = {
  'sign in': { page: 'src/pages/SignIn.svelte', shell: false, js: 45, css: 10 },
  register: { page: 'src/pages/Register.svelte', shell: false, js: 50, css: 10 },
  'verify email': { page: 'src/pages/VerifyEmail.svelte', shell: false, js: 45, css: 10 },
  'reset passw.': { page: 'src/pages/ResetPassword.svelte', shell: false, js: 50, css: 10 },
  dashboard: { page: 'src/pages/Dashboard.svelte', shell: true, js: 110, css: 12 },
  calls: { page: 'src/pages/Calls.svelte', shell: true, js: 90, css: 12 },
};
const fontBudget = { each: 60, total: 160, files: 3 };

const gz = new Map();
function gzSize(file) {
  if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(join(dist, file)), { level: 9 }).length);
  return gz.get(file);
}

/** Every file a chunk loads up front: itself, its static imports, their CSS. */
function closure(key, files = new Set()) {
  const chunk = manifest[key];
  if (!chunk) throw new Error(`no chunk ${key} in the manifest`);
  if (files.has(chunk.file)) return files;
  files.add(chunk.file);
  for (const css of chunk.css ?? []) files.add(css);
  for (const imp of chunk.imports ?? []) closure(imp, files);
  return files;
}

let failed = false;
const kb = (n) => (n / 1024).toFixed(1);
console.log('page         JS KB gz (budget)   CSS KB gz (budget)');
for (const [name, b] of Object.entries(budgets)) {
  const files = closure('index.html');
  if (b.shell) closure('src/components/Shell.svelte', files);
  closure(b.page, files);
  let js = 0;
  let css = 0;
  for (const f of files) {
    if (f.endsWith('.js')) js += gzSize(f);
    else if (f.endsWith('.css')) css += gzSize(f);
  }
  const over = js > b.js * 1024 || css > b.css * 1024;
  failed ||= over;
  console.log(`${name.padEnd(12)} ${kb(js).padStart(6)} (${b.js})        ${kb(css).padStart(6)} (${b.css})${over ? '   OVER BUDGET' : ''}`);
}

const fonts = readdirSync(join(dist, 'assets')).filter((f) => /\.(woff2?|ttf|otf)$/.test(f));
let total = 0;
for (const f of fonts) {
  const size = readFileSync(join(dist, 'assets', f)).length;
  total += size;
  const over = size > fontBudget.each * 1024 || !f.endsWith('.woff2');
  failed ||= over;
  console.log(`font ${f}: ${kb(size)} KB${over ? '   OVER BUDGET (or not woff2)' : ''}`);
}
if (fonts.length > fontBudget.files || total > fontBudget.total * 1024) {
  failed = true;
  console.log(`fonts: ${fonts.length} files, ${kb(total)} KB: over budget (${fontBudget.files} files, ${fontBudget.total} KB)`);
} else {
  console.log(`fonts: ${fonts.length} files, ${kb(total)} KB (budget ${fontBudget.files} files, ${fontBudget.total} KB)`);
}
if (failed) {
  console.error('size budget exceeded');
  process.exit(1);
}

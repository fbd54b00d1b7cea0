// Opens one HTML file in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) and checks that it is a self-contained page:
// no console error, no request other than the file itself, a screenshot at
// desktop width and one at phone width (390 px) that are not blank, and no
// sideways scrolling of the page at phone width. Prints one line per
// failure and exits 1 on any; writes OUT.png and OUT-phone.png (and, given
// TOP_PX, OUT-top.png: the first TOP_PX pixels of the desktop page).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, out, top] = process.argv.slice(2);
if (!file || !out || (top !== undefined && !(Number(top) > 0))) {
  console.error('usage: check.mjs FILE.html OUT.png [TOP_PX]');
  process.exit(2);
}
const url = pathToFileURL(resolve(file)).href;
const phoneOut = out.replace(/\.png$/i, '') + '-phone.png';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const failures = [];
const profile = mkdtempSync(join(tmpdir(), 'concbench-html-check-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') failures.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (r.url() !== url) failures.push(`request that leaves the file: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load', timeout: 30000 });
  const shots = [];
  shots.push([out, await page.screenshot({ path: out, fullPage: true })]);
  if (top !== undefined) {
    // The top of the page alone (e.g. for the README): OUT-top.png.
    const topOut = out.replace(/\.png$/i, '') + '-top.png';
    const clip = { x: 0, y: 0, width: 1280, height: Number(top) };
    shots.push([topOut, await page.screenshot({ path: topOut, clip, fullPage: true })]);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 390) failures.push(`at phone width the page scrolls sideways: ${wide} px wide for 390`);
  shots.push([phoneOut, await page.screenshot({ path: phoneOut, fullPage: true })]);

  // Blank or not, counted by Chromium itself on a page of its own (no npm
  // package decodes PNGs here): the share of pixels of the commonest colour.
  const judge = await context.newPage();
  for (const [path, png] of shots) {
    const share = await judge.evaluate(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const counts = new Map();
      for (let i = 0; i < d.length; i += 4) {
        const k = (d[i] >> 4) << 8 | (d[i + 1] >> 4) << 4 | (d[i + 2] >> 4);
        counts.set(k, (counts.get(k) || 0) + 1);
      }
      return Math.max(...counts.values()) / (d.length / 4);
    }, png.toString('base64'));
    if (share > 0.995) {
      failures.push(`blank screenshot ${path}: ${(share * 100).toFixed(2)}% of its pixels are one colour`);
    } else {
      console.log(`${path}: ${(100 - share * 100).toFixed(1)}% of the pixels are not the background`);
    }
  }
} catch (e) {
  failures.push(`could not open ${file} in ${executablePath}: ${String(e.message).split('\n')[0]}`);
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
for (const f of failures) console.error(`${file}: ${f}`);
if (failures.length === 0) console.log(`${file}: ok (no console error, no request out of the file)`);
process.exit(failures.length ? 1 : 0);

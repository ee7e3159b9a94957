// report_html.mjs: open report.html of `s2r migrate` in Debian's chromium
// (headless, driven by playwright-core) and check what a person sees: one
// table row per script of report.json, the totals, the chart, sorting on a
// header click (both ways), and that the page asks the network for
// nothing.
//
// usage: node report_html.mjs OUTDIR
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const outdir = path.resolve(process.argv[2]);
const report = JSON.parse(fs.readFileSync(path.join(outdir, 'report.json'), 'utf8'));
let failed = 0;
function check(cond, what) {
  if (!cond) {
    failed++;
    console.log('FAIL: ' + what);
  }
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 's2r-chromium-'));
// a fresh profile: playwright passes it as --user-data-dir
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
         '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const url = 'file://' + path.join(outdir, 'report.html');
  await page.goto(url);

  const rows = page.locator('#scripts tbody tr');
  check(await rows.count() === report.scripts.length,
        `one row per script: ${await rows.count()} rows, ${report.scripts.length} scripts`);
  const shown = await page.$$eval('#scripts tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  check(JSON.stringify([...shown].sort()) === JSON.stringify(report.scripts.map((s) => s.path).sort()),
        'the rows are the scripts of report.json');
  const totals = await page.$$eval('#totals tr', (trs) => Object.fromEntries(
    trs.map((tr) => [tr.cells[0].textContent, Number(tr.cells[1].textContent)])));
  check(totals['batch scripts'] === report.totals.scripts, 'totals: scripts');
  check(totals['refused'] === report.totals.refused, 'totals: refused');
  check(totals['GPUs asked for'] === report.totals.gpus, 'totals: GPUs');
  const bars = await page.locator('#chart-partition g.bar').count();
  check(bars === Math.min(report.by_partition.length, 40), `chart: ${bars} partitions`);
  check(await page.locator('#chart-account').isHidden(), 'the account chart waits for its button');
  await page.click('button[data-chart=account]');
  check(await page.locator('#chart-account').isVisible() &&
        await page.locator('#chart-partition').isHidden(), 'the chart switches to accounts');

  // sort by GPUs: a click sorts ascending, a second descending
  const heads = await page.$$eval('#scripts thead th', (ths) => ths.map((t) => t.textContent));
  const gpuCol = heads.indexOf('GPUs');
  const gpus = () => page.$$eval(`#scripts tbody tr td:nth-child(${gpuCol + 1})`,
                                  (tds) => tds.map((t) => Number(t.getAttribute('data-v'))));
  const th = page.locator('#scripts thead th').nth(gpuCol);
  await th.click();
  let v = await gpus();
  check(JSON.stringify(v) === JSON.stringify([...v].sort((a, b) => a - b)), 'GPUs sorted ascending: ' + v);
  check(await th.getAttribute('aria-sort') === 'ascending', 'aria-sort ascending');
  await th.click();
  v = await gpus();
  check(JSON.stringify(v) === JSON.stringify([...v].sort((a, b) => b - a)), 'GPUs sorted descending: ' + v);
  check(await th.getAttribute('aria-sort') === 'descending', 'aria-sort descending');
  check(new Set(v).size > 1, 'the tree asks for different GPU counts');
  // sort by script path (text)
  await page.locator('#scripts thead th').nth(0).click();
  const names = await page.$$eval('#scripts tbody tr td:first-child', (tds) => tds.map((t) => t.textContent.toLowerCase()));
  check(JSON.stringify(names) === JSON.stringify([...names].sort()), 'paths sorted');
  check(await page.locator('#skipped li').count() === report.skipped.length, 'skipped files listed');

  check(requests.every((u) => u.startsWith('file://')), 'no network: ' + requests.filter((u) => !u.startsWith('file://')));
  check(errors.length === 0, 'no script errors: ' + errors);
  await page.screenshot({ path: path.join(outdir, 'report.png'), fullPage: false });
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`report.html: ${failed ? 0 : 1} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);

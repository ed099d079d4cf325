// Starts of two (or more) builds side by side, alternated, so that a noisy machine's slow
// minutes fall on each build alike (BENCHMARKS.md compares builds this way). Each build gets
// its own relay (loopback port 8140 + its index) and browser profile, seeded once with the
// client benchmark's 10,000 customers (`/sample-data`); then each round launches each
// build's browser offline (a true cold start: browser, service worker and IndexedDB all
// started anew) and starts the app three more times in it (warm starts). Prints, per build,
// the medians of list-ready and of each phase between the start's marks.
//   cd e2e && node bench/ab-start.mjs 10 /tmp/dist-before /tmp/dist-after
// Builds are `trunk build --release --dist DIR` outputs; the relay is ../target/release's.
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const relay = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../target/release/fieldbook-server');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-ab-'));
const [rounds, ...dists] = process.argv.slice(2);
if (!(Number(rounds) > 0) || dists.length === 0) {
  console.error('usage: node bench/ab-start.mjs ROUNDS DIST...');
  process.exit(2);
}
const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const servers = [];
process.on('exit', () => servers.forEach((server) => server.kill()));
const marks = ['storage-open-start', 'storage-opened', 'first-screen-fetched', 'screens-main', 'first-screen-built', 'first-screen', 'summaries-fetched', 'summaries-snapshot-decoded', 'book-built', 'list-ready'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function launch(i, offline) {
  return chromium.launchPersistentContext(path.join(work, `profile-${i}`), { executablePath: '/usr/bin/chromium', args, viewport: { width: 390, height: 844 }, offline });
}
async function toList(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('fieldbook:list-ready').length > 0, null, { timeout: 60000 });
  // With the navigation's own timing: the old page's unload, the response (the service
  // worker's answer), the page's first script (the storage-open-start mark).
  return page.evaluate((marks) => {
    const nav = performance.getEntriesByType('navigation')[0];
    const navMarks = { 'unload-end': nav?.unloadEventEnd || NaN, 'fetch-start': nav?.fetchStart ?? NaN, 'response-end': nav?.responseEnd ?? NaN };
    return { ...navMarks, ...Object.fromEntries(marks.map((m) => [m, performance.getEntriesByName('fieldbook:' + m)[0]?.startTime ?? NaN])) };
  }, marks);
}
for (const [i, dist] of dists.entries()) {
  fs.rmSync(path.join(work, `profile-${i}`), { recursive: true, force: true });
  const port = 8140 + i;
  servers.push(spawn(relay, ['--listen', `127.0.0.1:${port}`, '--data-dir', path.join(work, `data-${i}`), '--static-dir', dist], { stdio: 'ignore' }));
  await sleep(1500);
  const context = await launch(i, false);
  const page = context.pages()[0];
  await page.goto(`http://127.0.0.1:${port}/sample-data?n=10000&seed=42&auto=1`);
  await page.getByTestId('sample-done').waitFor({ timeout: 600000 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  await sleep(3000);
  await context.close();
}
const results = dists.map(() => ({ cold: [], warm: [], coldDrawn: [], warmDrawn: [], coldMarks: [], warmMarks: [] }));
// The list drawn: its first screen (a build that stores one, read before the whole book),
// else the whole book's list.
const drawn = (m) => (Number.isNaN(m['first-screen']) ? m['list-ready'] : Math.min(m['first-screen'], m['list-ready']));
for (let r = 0; r < Number(rounds); r++) {
  for (const [i] of dists.entries()) {
    const context = await launch(i, true);
    const page = context.pages()[0];
    const url = `http://127.0.0.1:${8140 + i}/`;
    const cold = await toList(page, url);
    results[i].cold.push(cold['list-ready']);
    results[i].coldDrawn.push(drawn(cold));
    results[i].coldMarks.push(cold);
    for (let w = 0; w < 3; w++) { const w2 = await toList(page, url); results[i].warm.push(w2['list-ready']); results[i].warmDrawn.push(drawn(w2)); results[i].warmMarks.push(w2); }
    await context.close();
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [i, dist] of dists.entries()) {
  const res = results[i];
  const m = Object.fromEntries(marks.map((k) => [k, median(res.coldMarks.map((x) => x[k])).toFixed(0)]));
  console.log(`${dist}: cold median ${median(res.cold).toFixed(0)} [${res.cold.map((x) => x.toFixed(0)).join(' ')}]; warm (offline, same browser) median ${median(res.warm).toFixed(0)} [${res.warm.map((x) => x.toFixed(0)).join(' ')}]`);
  console.log(`   list drawn (first screen, or the whole book's list): cold median ${median(res.coldDrawn).toFixed(0)} [${res.coldDrawn.map((x) => x.toFixed(0)).join(' ')}]; warm median ${median(res.warmDrawn).toFixed(0)}`);
  console.log(`   cold marks (medians): ${JSON.stringify(m)}`);
  console.log(`   warm marks (medians): ${JSON.stringify(Object.fromEntries(marks.map((k) => [k, median(res.warmMarks.map((x) => x[k])).toFixed(0)])))}`);
}
for (const [i, dist] of dists.entries()) {
  const res = results[i];
  const diff = (xs, a, b) => median(xs.map((x) => x[b] - x[a])).toFixed(1);
  // A start with no page before it (a cold one) unloads nothing (unloadEventEnd 0).
  const unloaded = (xs) => (xs.some((x) => x['unload-end'] > 0) ? `${diff(xs.filter((x) => x['unload-end'] > 0), 'fetch-start', 'unload-end')} ms after fetch start` : 'none');
  for (const kind of ['coldMarks', 'warmMarks']) {
    const xs = res[kind];
    console.log(`${dist} ${kind} navigation medians: old page unloaded ${unloaded(xs)}, fetch start ${median(xs.map((x) => x['fetch-start'])).toFixed(1)}, response end ${median(xs.map((x) => x['response-end'])).toFixed(1)}, first script ${median(xs.map((x) => x['storage-open-start'])).toFixed(1)}`);
    console.log(`${dist} ${kind} phase medians: open ${diff(xs, 'storage-open-start', 'storage-opened')} fetch ${diff(xs, 'storage-opened', 'summaries-fetched')} wait-main ${diff(xs, 'screens-main', 'summaries-fetched')} decode ${diff(xs, 'summaries-fetched', 'summaries-snapshot-decoded')} build ${diff(xs, 'summaries-snapshot-decoded', 'book-built')} render ${diff(xs, 'book-built', 'list-ready')}`);
  }
}
fs.writeFileSync(path.join(work, 'results.json'), JSON.stringify({ dists, results }));
console.log(`raw runs: ${path.join(work, 'results.json')}`);
for (const s of servers) s.kill();
for (const [i] of dists.entries()) {
  fs.rmSync(path.join(work, `profile-${i}`), { recursive: true, force: true });
  fs.rmSync(path.join(work, `data-${i}`), { recursive: true, force: true });
}

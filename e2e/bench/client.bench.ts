import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromiumArgs } from '../playwright.config';
import { AccountPage } from '../tests/fixtures/account_page';
import { removeProfile } from '../tests/fixtures/browser_profile';
import { DeviceStorage } from '../tests/fixtures/device_storage';
import { openDevice, tabletSize } from '../tests/fixtures/devices';
import { BooksMenu, TeamDashboardPage, TeamPage, openTerritory } from '../tests/fixtures/team_page';

// Client benchmarks in headless Chromium against the real release build. Books are written
// by the app's own code (the sample-data screen, deterministic by seed). Results go to
// BENCHMARKS.md (or, for the CI smoke run, a temporary file).

const smoke = !!process.env.FIELDBOOK_BENCH_SMOKE;
// Report the service worker's own requests too (its precache), for the first-visit figure.
process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS = '1';
const startupSizes = smoke ? [200] : [1_000, 10_000];
const searchSize = smoke ? 500 : 50_000;
const runs = smoke ? 2 : 7;
const syncSize = smoke ? 200 : 10_000;
const propagationSamples = smoke ? 5 : 40;
const bootstrapRuns = smoke ? 1 : 3;
const catchUpChanges = smoke ? 20 : 500;
const catchUpTouched = smoke ? 10 : 100;

interface Row {
  figure: string;
  measured: string;
  target: string;
  pass: boolean | null;
}
const rows: Row[] = [];
const details: string[] = [];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function launch(profile: string, baseURL: string, offline = false) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: chromiumArgs,
    baseURL,
    viewport: { width: 390, height: 844 },
    offline,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

async function seed(page: Page, n: number, seedValue: number, extra = '') {
  await page.goto(`/sample-data?n=${n}&seed=${seedValue}&auto=1${extra}`);
  await expect(page.getByTestId('sample-done')).toBeVisible({ timeout: 20 * 60_000 });
  const done = (await page.getByTestId('sample-done').textContent()) ?? '';
  // The engine writes the list's snapshot ~0.1 s after the last batch (off the report's
  // path). A browser closed before that starts from the log's JSON records instead, and
  // the benchmark's rapid restarts (each under the 1 s a start waits before compacting)
  // would then measure that read every time (534-578 ms with ten custom fields, against
  // ~250 ms from the snapshot): wait for it, as a rep's app that stays open a second does.
  await expect.poll(() => new DeviceStorage(page).count('summaries_log'), { timeout: 60_000 }).toBe(0);
  return done;
}

/**
 * Per-keystroke latency of the quick capture's duplicate hints: each keystroke sets the
 * name, fires `input`, lets the reactive updates run and forces layout.
 */
async function duplicateHintKeystrokes(page: Page): Promise<number[]> {
  await page.goto('/capture');
  await expect(page.getByTestId('capture-page')).toBeVisible();
  return keystrokeLatencies(page, 'capture-name', ['amelie novak', 'jean dupont', 'zenith wines']);
}

/**
 * Types each query into the input `testid` one letter at a time; per keystroke: set the
 * value, fire `input`, let the reactive updates run, then force style and layout.
 */
function keystrokeLatencies(page: Page, testid: string, queries: string[]): Promise<number[]> {
  return page.evaluate(
    async ({ testid, queries }) => {
      const input = document.querySelector(`[data-testid="${testid}"]`) as HTMLInputElement;
      const times: number[] = [];
      for (const query of queries) {
        for (let len = 1; len <= query.length; len++) {
          const started = performance.now();
          input.value = query.slice(0, len);
          input.dispatchEvent(new Event('input', { bubbles: true }));
          await new Promise((resolve) => setTimeout(resolve, 0));
          void document.body.offsetHeight;
          times.push(performance.now() - started);
        }
        input.value = '';
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return times;
    },
    { testid, queries },
  );
}

// Profiles (scripts/profile.sh): with FIELDBOOK_BENCH_PROFILE set to a folder, the phases
// behind BRIEF's targets are also recorded with the V8 sampling profiler (wasm included; the
// profile build keeps the wasm's function names) in runs that do not count for the figures.
// Each profile is written as NAME.cpuprofile (for Chromium's DevTools) and summarised in the
// report: where the main thread spent its time, by crate and by function (self time).
const profileDir = process.env.FIELDBOOK_BENCH_PROFILE;

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A Rust symbol in the legacy mangling (`_ZN6client6routes4list…17h<hash>E`) as its path
 * (`client::routes::list::…`). The split screens' wasm keeps its symbols mangled
 * (scripts/build-screens.mjs runs wasm-bindgen with --no-demangle, as splitting needs);
 * anything else is returned as it is. */
function demangle(name: string): string {
  if (!name.startsWith('_ZN')) return name;
  const segments: string[] = [];
  let at = 3;
  while (at < name.length && name[at] !== 'E') {
    const digits = /^\d+/.exec(name.slice(at));
    if (!digits) return name;
    at += digits[0].length;
    segments.push(name.slice(at, at + Number(digits[0])));
    at += Number(digits[0]);
  }
  if (segments.length > 1 && /^h[0-9a-f]{16}$/.test(segments[segments.length - 1])) segments.pop();
  const escapes: Record<string, string> = { SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',' };
  return segments
    .map((segment) =>
      segment
        .replace(/^_\$/, '$')
        .replace(/\$([A-Z]{1,2})\$/g, (all, code: string) => escapes[code] ?? all)
        .replace(/\$u([0-9a-f]{2})\$/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
        .replace(/\.\./g, '::'),
    )
    .join('::');
}

/** The crate (or JS file, or V8 category) a profile node's self time is charged to. */
function costCentre(frame: { functionName: string; url: string }): string {
  const name = demangle(frame.functionName);
  if (name.startsWith('(')) return name; // (garbage collector), (program), (idle)
  // Rust symbols: the first path segment, without the crate's disambiguator ("dlmalloc[e24a…]").
  const rust = /^<*&?(?:mut )?(?:dyn )?([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::/.exec(name);
  if (rust) return rust[1] === '__rustc' ? 'alloc' : rust[1];
  if (/\.wasm$/.test(frame.url) || /^(wasm-function|\$func)/.test(name)) return 'wasm, unnamed';
  if (frame.url) return `JS ${path.basename(frame.url).replace(/-[0-9a-f]{16}/, '')}`;
  return 'browser built-ins (IndexedDB, DOM, JSON)';
}

function summariseProfile(profile: CpuProfile): string {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byCentre = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)!.callFrame;
    if (frame.functionName === '(idle)') return;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    busy += ms;
    const centre = costCentre(frame);
    byCentre.set(centre, (byCentre.get(centre) ?? 0) + ms);
    const fn = (demangle(frame.functionName) || '(anonymous)').replace(/::h[0-9a-f]{16}(\.\d+)?$/, '').replace(/\[[0-9a-f]{16}\]/g, '');
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  });
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => `${name} ${ms.toFixed(0)} ms (${((100 * ms) / busy).toFixed(0)}%)`)
      .join('; ');
  return `busy ${busy.toFixed(0)} ms. By crate: ${top(byCentre, 10)}. Top functions (self): ${top(byFunction, 12)}`;
}

// A Chromium trace of one more download (FIELDBOOK_BENCH_TRACE set to a folder), in a run
// that does not count for the figures: the Long Tasks API says how long a task took, the trace
// says what ran in it (script, garbage collection, style, layout, paint).
const traceDir = process.env.FIELDBOOK_BENCH_TRACE;

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: {
    name?: string;
    data?: {
      functionName?: string;
      url?: string;
      startTime?: number;
      cpuProfile?: { nodes?: { id: number; callFrame: { functionName: string } }[]; samples?: number[] };
      timeDeltas?: number[];
    };
  };
}

/** The V8 sampling profiler's samples in a trace (`disabled-by-default-v8.cpu_profiler`):
 * for each thread (`pid:tid`), each sample's time (trace clock, µs) and leaf function. */
function traceSamples(events: TraceEvent[]): Map<string, { ts: number; fn: string }[]> {
  const profiles = new Map<string, { thread: string; at: number; names: Map<number, string> }>();
  const samples = new Map<string, { ts: number; fn: string }[]>();
  for (const e of events) {
    // Ids are per process (a page and its workers share one).
    if (e.name === 'Profile' && e.id !== undefined) {
      profiles.set(`${e.pid}:${e.id}`, { thread: `${e.pid}:${e.tid}`, at: e.args?.data?.startTime ?? e.ts, names: new Map() });
    }
    if (e.name !== 'ProfileChunk' || e.id === undefined) continue;
    const profile = profiles.get(`${e.pid}:${e.id}`);
    const data = e.args?.data;
    if (!profile || !data) continue;
    for (const node of data.cpuProfile?.nodes ?? []) profile.names.set(node.id, node.callFrame.functionName);
    const deltas = data.timeDeltas ?? [];
    (data.cpuProfile?.samples ?? []).forEach((id, i) => {
      profile.at += deltas[i] ?? 0;
      const list = samples.get(profile.thread) ?? [];
      list.push({ ts: profile.at, fn: profile.names.get(id) ?? '?' });
      samples.set(profile.thread, list);
    });
  }
  return samples;
}

/**
 * The tasks over 50 ms on every renderer's main thread of a trace, each with what ran in it:
 * its nested events' self time by name (a function call's script named by its function).
 */
function traceLongTasks(events: TraceEvent[]): string[] {
  const sampled = traceSamples(events);
  const mains = new Set(
    events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`),
  );
  const complete = events.filter((e) => e.ph === 'X' && e.dur !== undefined && mains.has(`${e.pid}:${e.tid}`));
  const tasks = complete.filter((e) => e.name === 'RunTask' && (e.dur ?? 0) > 50_000);
  const start = Math.min(...complete.map((e) => e.ts));
  return tasks.map((task) => {
    const inside = complete
      .filter((e) => e !== task && e.pid === task.pid && e.tid === task.tid && e.ts >= task.ts && e.ts + (e.dur ?? 0) <= task.ts + (task.dur ?? 0))
      .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    // Self time: an event's duration less its direct children's.
    const self = new Map<string, number>();
    const stack: { end: number; key: string; children: number; dur: number }[] = [];
    const close = (upTo: number) => {
      while (stack.length > 0 && stack[stack.length - 1].end <= upTo) {
        const done = stack.pop()!;
        self.set(done.key, (self.get(done.key) ?? 0) + done.dur - done.children);
      }
    };
    for (const e of inside) {
      close(e.ts);
      if (stack.length > 0) stack[stack.length - 1].children += e.dur ?? 0;
      const fn = e.args?.data?.functionName;
      const key = fn ? `${e.name} ${fn}` : e.name;
      stack.push({ end: e.ts + (e.dur ?? 0), key, children: 0, dur: e.dur ?? 0 });
    }
    close(Infinity);
    const top = [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([key, us]) => `${key} ${(us / 1000).toFixed(1)}`)
      .join(', ');
    // The sampling profiler's leaf functions in the task (wasm frames are named when the
    // build keeps its name section, as scripts/profile.sh's copy does).
    const inTask = (sampled.get(`${task.pid}:${task.tid}`) ?? []).filter((s) => s.ts >= task.ts && s.ts <= task.ts + (task.dur ?? 0));
    const byFn = new Map<string, number>();
    for (const s of inTask) {
      const fn = (demangle(s.fn) || '(anonymous)').replace(/::h[0-9a-f]{16}(\.\d+)?$/, '');
      byFn.set(fn, (byFn.get(fn) ?? 0) + 1);
    }
    const leaves = [...byFn.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([fn, n]) => `${fn} ${n}`)
      .join(', ');
    return `${((task.dur ?? 0) / 1000).toFixed(0)} ms at +${((task.ts - start) / 1000).toFixed(0)} ms: ${top}${leaves ? ` [samples: ${leaves}]` : ''}`;
  });
}

/** Runs `fn` under the sampling profiler when profiling; otherwise does nothing. */
async function profiled(page: Page, name: string, fn: () => Promise<unknown>): Promise<void> {
  if (!profileDir) return;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
  await cdp.send('Profiler.start');
  try {
    await fn();
  } finally {
    const { profile } = await cdp.send('Profiler.stop');
    await cdp.detach();
    fs.mkdirSync(profileDir, { recursive: true });
    fs.writeFileSync(path.join(profileDir, `${name}.cpuprofile`), JSON.stringify(profile));
    details.push(`Profile "${name}" (${name}.cpuprofile): ${summariseProfile(profile as CpuProfile)}`);
  }
}

/** The tab's memory: JS heap in use after a garbage collection (the page's), and the wasm linear memory of the page and its engine worker. */
async function memoryMB(page: Page): Promise<{ js: number; wasm: number; parts: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  const mb = (bytes: number) => bytes / 1048576;
  const own = await page.evaluate(() => (window as any).fieldbookWasmMemory?.buffer.byteLength ?? 0);
  let wasm = own;
  const parts = [`screens ${mb(own).toFixed(1)}`];
  for (const worker of page.workers()) {
    const bytes = await worker.evaluate(() => (self as any).fieldbookWasmMemory?.buffer.byteLength ?? 0);
    wasm += bytes;
    parts.push(`${path.basename(new URL(worker.url()).pathname)} ${mb(bytes).toFixed(1)}`);
  }
  return { js: mb(usedSize), wasm: mb(wasm), parts: parts.join(', ') };
}

function memoryRow(figure: string, memory: { js: number; wasm: number; parts: string }, n: number): Row {
  const total = memory.js + memory.wasm;
  return {
    figure,
    measured: `${total.toFixed(1)} MB (JS heap ${memory.js.toFixed(1)} MB + wasm memory ${memory.wasm.toFixed(1)} MB: ${memory.parts})`,
    target: n === 10_000 ? '≤ 100 MB' : '—',
    pass: n === 10_000 ? total <= 100 : null,
  };
}

/** Where the time of the page's last start went (marks set by the app), ms since navigation. */
async function startMarks(page: Page): Promise<string> {
  const marks = await page.evaluate(() =>
    ['fieldbook:storage-open-start', 'fieldbook:storage-opened', 'fieldbook:first-screen-fetched', 'fieldbook:screens-main', 'fieldbook:first-screen-built', 'fieldbook:first-screen', 'fieldbook:engine-spawned', 'fieldbook:summaries-fetched', 'fieldbook:summaries-snapshot-decoded', 'fieldbook:summaries-read', 'fieldbook:book-built', 'fieldbook:list-ready'].map(
      (name) => [name.replace('fieldbook:', ''), performance.getEntriesByName(name)[0]?.startTime ?? NaN] as const,
    ),
  );
  // A start that read no snapshot (the log's JSON records instead) has no decode mark.
  return marks.filter(([, at]) => !Number.isNaN(at)).sort((a, b) => a[1] - b[1]).map(([name, at]) => `${name} ${at.toFixed(0)}`).join(' → ');
}

/** Navigation start to the app's "list shows the stored book" mark, in ms. */
async function timeToList(page: Page): Promise<number> {
  return (await startTimes(page)).ready;
}

/**
 * A start, ms since navigation: `drawn` when the list's first rows are on screen (its stored
 * first screen, read before the whole book: rows tappable, counts shown; or the whole book's
 * list when that came first), `ready` when the list shows the whole book (search, filters,
 * every row).
 */
async function startTimes(page: Page): Promise<{ drawn: number; ready: number }> {
  await page.goto('/');
  await page.waitForFunction(() => performance.getEntriesByName('fieldbook:list-ready').length > 0, null, {
    timeout: 60_000,
  });
  return page.evaluate(() => {
    const at = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
    const ready = at('fieldbook:list-ready');
    const first = at('fieldbook:first-screen');
    return { drawn: Number.isNaN(first) ? ready : Math.min(first, ready), ready };
  });
}

/** The rows of a start figure: the list drawn (its first screen) and the whole book ready. */
function startRows(what: string, n: number, starts: { drawn: number; ready: number }[]): Row[] {
  const runs = (key: 'drawn' | 'ready') => starts.map((start) => start[key].toFixed(0)).join(', ');
  const drawn = median(starts.map((start) => start.drawn));
  const ready = median(starts.map((start) => start.ready));
  const targeted = n === 10_000;
  return [
    {
      figure: `${what} to the list's first rows drawn and tappable (its stored first screen), ${n} customers`,
      measured: `${drawn.toFixed(0)} ms (runs: ${runs('drawn')})`,
      target: targeted ? '≤ 200 ms' : '—',
      pass: targeted ? drawn <= 200 : null,
    },
    {
      figure: `${what} to interactive list, ${n} customers (the whole book: search, filters, every row)`,
      measured: `${ready.toFixed(0)} ms (runs: ${runs('ready')})`,
      target: targeted ? '≤ 200 ms' : '—',
      pass: targeted ? ready <= 200 : null,
    },
  ];
}

test('first load transfer size, by file', async ({ baseURL }) => {
  // The build the server serves (the e2e folder's `../dist` unless told another).
  const dist = path.resolve(path.join(__dirname, '..'), process.env.FIELDBOOK_STATIC_DIR ?? '../dist');
  const files = (fs.readdirSync(dist, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dist, f)).isFile())
    .filter((f) => !/\.(br|gz|partial)$/.test(f))
    .sort();
  const totals: Record<string, number> = { br: 0, gzip: 0, identity: 0 };
  const brotliByFile = new Map<string, number>();
  details.push('### First load, compressed transfer by file', '', '| file | raw | brotli | gzip |', '| --- | ---: | ---: | ---: |');
  for (const file of files) {
    const sizes: Record<string, number> = {};
    for (const encoding of ['br', 'gzip', 'identity']) {
      const response = await fetch(`${baseURL}/${file}`, { headers: { 'accept-encoding': encoding } });
      // fetch() decodes bodies; the wire size is the Content-Length of the encoded body.
      sizes[encoding] = Number(response.headers.get('content-length'));
      await response.arrayBuffer();
      totals[encoding] += sizes[encoding];
    }
    brotliByFile.set(file.split(path.sep).join('/'), sizes.br);
    details.push(`| ${file} | ${(sizes.identity / 1024).toFixed(1)} KB | ${(sizes.br / 1024).toFixed(1)} KB | ${(sizes.gzip / 1024).toFixed(1)} KB |`);
  }
  details.push(`| **total** | ${(totals.identity / 1024).toFixed(1)} KB | ${(totals.br / 1024).toFixed(1)} KB | ${(totals.gzip / 1024).toFixed(1)} KB |`, '');
  rows.push({ figure: 'first load, brotli (all files)', measured: `${(totals.br / 1024).toFixed(1)} KB`, target: '≤ 500 KB', pass: totals.br <= 500 * 1024 });
  const sw = fs.readFileSync(path.join(dist, 'sw.js'), 'utf8');
  const precache: string[] = JSON.parse(sw.match(/const PRECACHE = (\[.*?\]);/)![1]);
  const precacheBytes = precache.reduce((sum, url) => sum + fs.statSync(path.join(dist, url.slice(1))).size, 0);
  rows.push({ figure: 'service worker precache (files of the build, as stored in the cache)', measured: `${precache.length} files, ${(precacheBytes / 1024).toFixed(1)} KB`, target: '—', pass: null });
  // The same files as the browser receives them (the relay serves brotli).
  const precacheBrotli = precache.reduce((sum, url) => sum + (brotliByFile.get(url.slice(1)) ?? 0), 0);
  rows.push({ figure: 'everything precached, brotli (all files the service worker stores)', measured: `${(precacheBrotli / 1024).toFixed(1)} KB`, target: '≤ 900 KB (issue 17)', pass: precacheBrotli <= 900 * 1024 });
  rows.push({ figure: 'first load, gzip (all files)', measured: `${(totals.gzip / 1024).toFixed(1)} KB`, target: '—', pass: null });
});

test('first visit: bytes on the wire, page and service worker together', async ({ baseURL }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-first-visit-'));
  try {
    const { context, page } = await launch(profile, baseURL!);
    // Every response either the page or the service worker received, by path: its bytes
    // on the wire (headers and encoded body; a file taken from the HTTP cache costs none).
    const byPath = new Map<string, { n: number; bytes: number }>();
    const pending: Promise<void>[] = [];
    context.on('requestfinished', (request) => {
      pending.push(
        request.sizes().then((sizes) => {
          const key = new URL(request.url()).pathname;
          const entry = byPath.get(key) ?? { n: 0, bytes: 0 };
          const bytes = sizes.responseBodySize + sizes.responseHeadersSize;
          if (sizes.responseBodySize > 0) entry.n += 1;
          entry.bytes += bytes;
          byPath.set(key, entry);
        }),
      );
    });
    await page.goto('/');
    await expect(page.getByTestId('customer-list')).toHaveAttribute('data-ready', 'true');
    // What the page fetched before its list was interactive (the page, the screens' first
    // wasm and JS, CSS: the brotli bodies), by the page's own Resource Timing. The engine's
    // files load beside it (the list does not wait for them) and are listed apart.
    const beforeList = await page.evaluate(() => {
      const ready = performance.getEntriesByName('fieldbook:list-ready')[0]?.startTime ?? performance.now();
      const entries = [
        ...(performance.getEntriesByType('navigation') as PerformanceResourceTiming[]),
        ...(performance.getEntriesByType('resource') as PerformanceResourceTiming[]),
      ].filter((entry) => entry.responseEnd <= ready);
      return entries.map((entry) => ({ path: new URL(entry.name).pathname, bytes: entry.encodedBodySize }));
    });
    const engineFile = (file: string) => /fieldbook-engine/.test(file);
    const listBytes = beforeList.filter((entry) => !engineFile(entry.path)).reduce((sum, entry) => sum + entry.bytes, 0);
    details.push(`First visit, fetched before the list was interactive (brotli bodies): ${beforeList.map((entry) => `${entry.path} ${(entry.bytes / 1024).toFixed(1)} KB${engineFile(entry.path) ? ' (engine, not waited for)' : ''}`).join(', ')}`);
    rows.push({
      figure: 'bytes fetched before the list is interactive, first visit (brotli bodies: page, screens\' wasm and JS, CSS; the engine loads beside it)',
      measured: `${(listBytes / 1024).toFixed(1)} KB`,
      target: '≤ 400 KB (issue 17)',
      pass: listBytes <= 400 * 1024,
    });
    await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active?.state === 'activated');
    await page.waitForTimeout(500);
    await Promise.all(pending);
    const total = [...byPath.values()].reduce((sum, entry) => sum + entry.bytes, 0);
    const twice = [...byPath.entries()].filter(([, entry]) => entry.n > 1).map(([key, entry]) => `${key} ×${entry.n}`);
    details.push(`First visit, bytes on the wire by path: ${[...byPath.entries()].map(([key, entry]) => `${key} ${(entry.bytes / 1024).toFixed(1)} KB${entry.n > 1 ? ` (×${entry.n})` : ''}`).join(', ')}`);
    rows.push({
      figure: 'first visit: bytes on the wire, page and service worker together (headers and bodies; files downloaded more than once — a revalidation answered 304 costs only its headers)',
      measured: `${(total / 1024).toFixed(1)} KB; ${twice.length ? twice.join(', ') : 'each file once'}`,
      target: '≤ 900 KB',
      pass: total <= 900 * 1024,
    });
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

for (const n of startupSizes) {
  test(`warm start to an interactive list with ${n} customers`, async ({ baseURL }) => {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
    try {
      let { context, page } = await launch(profile, baseURL!);
      const seeded = await seed(page, n, 42);
      details.push(`Seeding ${n} customers through the app: ${seeded}`);
      await context.close();
      ({ context, page } = await launch(profile, baseURL!));
      await timeToList(page); // First visit after restart fills the HTTP cache.
      const times: { drawn: number; ready: number }[] = [];
      for (let run = 0; run < runs; run++) times.push(await startTimes(page));
      await expect(page.getByTestId('customer-row').first()).toBeVisible();
      if (n === startupSizes[startupSizes.length - 1]) await profiled(page, `warm-start-${n}`, () => timeToList(page));
      rows.push(memoryRow(`client memory with ${n} customers, list shown after start`, await memoryMB(page), n));
      details.push(`Last start with ${n} customers, ms since navigation: ${await startMarks(page)}`);
      await context.close();
      rows.push(...startRows('warm start (online)', n, times));

      // The same start with no network at all: the service worker serves the app.
      ({ context, page } = await launch(profile, baseURL!));
      await timeToList(page);
      await page.evaluate(() => navigator.serviceWorker.ready);
      if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) await timeToList(page);
      expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
      await context.close();
      ({ context, page } = await launch(profile, baseURL!, true));
      const offlineTimes: { drawn: number; ready: number }[] = [];
      for (let run = 0; run < runs; run++) offlineTimes.push(await startTimes(page));
      rows.push(...startRows('cold start offline (browser restarted, no network)', n, offlineTimes));
      const hints = await duplicateHintKeystrokes(page);
      rows.push({
        figure: `duplicate hints while typing a lead, ${n} customers, per keystroke (median / p95)`,
        measured: `${median(hints).toFixed(1)} ms / ${percentile(hints, 95).toFixed(1)} ms`,
        target: '≤ 16 ms (one frame)',
        pass: median(hints) <= 16,
      });
      await context.close();
    } finally {
      removeProfile(profile);
    }
  });
}

const customFieldsSize = smoke ? 200 : 10_000;
test(`${customFieldsSize} customers with 10 custom fields each: warm start, search, filter by a field`, async ({ baseURL }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
  try {
    let { context, page } = await launch(profile, baseURL!);
    details.push(`Custom fields bench: ${await seed(page, customFieldsSize, 42, '&fields=1')}`);
    await context.close();
    ({ context, page } = await launch(profile, baseURL!));
    await timeToList(page);
    const times: { drawn: number; ready: number }[] = [];
    for (let run = 0; run < runs; run++) times.push(await startTimes(page));
    details.push(`Last start with ${customFieldsSize} customers with 10 custom fields each, ms since navigation: ${await startMarks(page)}`);
    rows.push(...startRows('warm start, 10 custom fields each,', customFieldsSize, times));
    await page.waitForFunction(() => performance.getEntriesByName('fieldbook:search-prepared').length > 0, null, { timeout: 60_000 });
    // Words found in built-in fields, in text custom fields and in a choice's label.
    const keystrokes = await keystrokeLatencies(page, 'search', ['lyon wines', 'booth b12', 'ac-00', 'wholesale']);
    rows.push({
      figure: `search-as-you-type, ${customFieldsSize} customers with 10 custom fields, per keystroke (median / p95)`,
      measured: `${median(keystrokes).toFixed(1)} ms / ${percentile(keystrokes, 95).toFixed(1)} ms`,
      target: '≤ 16 ms (one frame)',
      pass: percentile(keystrokes, 95) <= 16,
    });
    // A filter by a choice field, from the tap to the list drawn.
    const filter = await page.evaluate(async () => {
      const select = document.querySelector('[data-testid="filter-field"]') as HTMLSelectElement;
      const option = [...select.options].find((o) => o.text === 'Industry: Wholesale')!;
      const started = performance.now();
      select.value = option.value;
      select.dispatchEvent(new Event('change', { bubbles: true }));
      await new Promise((resolve) => requestAnimationFrame(() => resolve(null)));
      document.body.getBoundingClientRect();
      return { ms: performance.now() - started, count: document.querySelector('[data-testid="result-count"]')!.textContent };
    });
    rows.push({
      figure: `filter the list by a choice field, ${customFieldsSize} customers (tap to list drawn)`,
      measured: `${filter.ms.toFixed(1)} ms (${filter.count})`,
      target: '—',
      pass: null,
    });
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

test(`search-as-you-type and edit-to-IndexedDB latency over ${searchSize} customers`, async ({ baseURL }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
  try {
    let { context, page } = await launch(profile, baseURL!);
    await seed(page, searchSize, 7);
    await context.close();
    ({ context, page } = await launch(profile, baseURL!));
    await timeToList(page);
    // The list prepares every customer's search text in slices after it shows; a search
    // typed before that ends prepares the rest on its first keystroke. Measured: how long
    // after the list that takes, then keystrokes on a prepared book.
    await page.waitForFunction(() => performance.getEntriesByName('fieldbook:search-prepared').length > 0, null, { timeout: 60_000 });
    const preparedAfter = await page.evaluate(
      () => performance.getEntriesByName('fieldbook:search-prepared').at(-1)!.startTime - performance.getEntriesByName('fieldbook:list-ready')[0].startTime,
    );
    rows.push({
      figure: `search texts of ${searchSize} customers prepared, after the list shows (in slices between other work; a search typed before pays the rest on its first keystroke)`,
      measured: `${preparedAfter.toFixed(0)} ms`,
      target: '—',
      pass: null,
    });
    // Each keystroke: set the value, fire `input`, let the reactive updates run, then force
    // style and layout; the time covers search, list diff and layout.
    const searchQueries = ['lyon wines', 'amelie novak', 'zenith', '+33 6 1', 'vip'];
    const keystrokes = await keystrokeLatencies(page, 'search', searchQueries);
    await profiled(page, `search-${searchSize}`, () => keystrokeLatencies(page, 'search', searchQueries));
    rows.push({
      figure: `search-as-you-type, ${searchSize} customers, per keystroke (median / p95)`,
      measured: `${median(keystrokes).toFixed(1)} ms / ${percentile(keystrokes, 95).toFixed(1)} ms`,
      target: searchSize === 50_000 ? '≤ 8 ms / ≤ 16 ms (issue 17)' : '—',
      pass: searchSize === 50_000 ? median(keystrokes) <= 8 && percentile(keystrokes, 95) <= 16 : null,
    });

    const hints = await duplicateHintKeystrokes(page);
    rows.push({
      figure: `duplicate hints while typing a lead, ${searchSize} customers, per keystroke (median / p95)`,
      measured: `${median(hints).toFixed(1)} ms / ${percentile(hints, 95).toFixed(1)} ms`,
      target: '≤ 16 ms (one frame)',
      pass: median(hints) <= 16,
    });

    // A scripted capture: tap "+ Lead", type a visitor, tap save, until "saved" shows.
    const captures: number[] = [];
    for (let i = 0; i < (smoke ? 2 : 10); i++) {
      await page.goto('/');
      await expect(page.getByTestId('customer-list')).toHaveAttribute('data-ready', 'true');
      const started = Date.now();
      await page.getByTestId('quick-capture').first().click();
      await page.getByTestId('capture-name').fill(`Bench Visitor ${i}`);
      await page.getByTestId('capture-company').fill('Timing GmbH');
      await page.getByTestId('capture-phone').fill(`+49 151 0000 ${String(1000 + i)}`);
      await page.getByTestId('capture-save').click();
      await expect(page.getByTestId('capture-saved')).toContainText(`Bench Visitor ${i}`);
      captures.push(Date.now() - started);
    }
    rows.push({
      figure: `quick capture of one lead, tap "+ Lead" to saved (scripted typing, ${searchSize} customers; median)`,
      measured: `${median(captures).toFixed(0)} ms`,
      target: '—',
      pass: null,
    });

    await page.goto('/');
    await expect(page.getByTestId('customer-list')).toHaveAttribute('data-ready', 'true');

    // Edit to IndexedDB commit: change a field, wait for the indicator to turn "saved"
    // (set only after the transaction's complete event).
    await page.getByTestId('customer-row').first().click();
    const field = page.getByTestId('field-job_title');
    await expect(field).toBeVisible();
    let timed: { times: number[]; starts: number[] } = { times: [], starts: [] };
    const runEdits = async () => {
      timed = await page.evaluate(async () => {
        const input = document.querySelector('[data-testid="field-job_title"]') as HTMLInputElement;
        const status = document.querySelector('[data-testid="customer-page"] [data-testid="save-status"]')!;
        const times: number[] = [];
        const starts: number[] = [];
        for (let edit = 0; edit < 40; edit++) {
          const saved = new Promise<number>((resolve) => {
            const observer = new MutationObserver(() => {
              if (status.getAttribute('data-state') === 'saved') {
                observer.disconnect();
                resolve(performance.now());
              }
            });
            observer.observe(status, { attributes: true, childList: true, subtree: true, characterData: true });
          });
          const started = performance.now();
          starts.push(performance.timeOrigin + started);
          input.value = `Buyer ${edit}`;
          input.dispatchEvent(new Event('change', { bubbles: true }));
          times.push((await saved) - started);
        }
        return { times, starts };
      });
    };
    // Under scripts/profile.sh, the same edits under the profiler: the first of them follow
    // the start closely, and the slow ones are among those.
    if (profileDir) await profiled(page, `edits-after-start-${searchSize}`, runEdits);
    else await runEdits();
    const edits = timed.times;
    // The slow edits, with what the engine began or ended while each waited (its marks).
    const engineMarks: { name: string; at: number }[] = [];
    for (const worker of page.workers()) {
      engineMarks.push(
        ...(await worker.evaluate(() =>
          performance.getEntriesByType('mark').map((mark) => ({ name: mark.name, at: performance.timeOrigin + mark.startTime })),
        )),
      );
    }
    const slow = edits
      .map((ms, i) => ({ ms, i, at: timed.starts[i] }))
      .filter((edit) => edit.ms > 40)
      .map((edit) => {
        const during = engineMarks.filter((mark) => mark.at >= edit.at - 100 && mark.at <= edit.at + edit.ms).map((mark) => `${mark.name} at ${(mark.at - edit.at).toFixed(0)}`);
        return `edit ${edit.i} (${(edit.at - timed.starts[0]).toFixed(0)} ms after the first): ${edit.ms.toFixed(0)} ms${during.length ? `; engine marks from 100 ms before: ${during.join(', ')}` : ''}`;
      });
    const editTimings = await engineTimings(page);
    const prepared = await page.evaluate(() => performance.timeOrigin + (performance.getEntriesByName('fieldbook:search-prepared').at(-1)?.startTime ?? NaN));
    details.push(
      `Local edits over ${searchSize} customers, ${edits.length} in ${((timed.starts.at(-1)! - timed.starts[0]) / 1000).toFixed(1)} s: over 40 ms: ${slow.length ? slow.join('; ') : 'none'}. ` +
        (Number.isNaN(prepared)
          ? 'The page had not finished preparing the search texts by the last edit (its slices wait while an edit is in flight). '
          : `The page had prepared the search texts ${(prepared - timed.starts[0]).toFixed(0)} ms after the first edit began. `) +
        `Engine: the list checked against the documents (${(editTimings['start: list checked against the documents'] ?? 0).toFixed(0)} ms), snapshots compacted (${(editTimings['store: compact snapshots'] ?? 0).toFixed(0)} ms)`,
    );
    rows.push({
      figure: 'local edit durable in IndexedDB (p50 / p95, 40 edits, compaction included)',
      measured: `${percentile(edits, 50).toFixed(1)} ms / ${percentile(edits, 95).toFixed(1)} ms`,
      target: 'p95 ≤ 50 ms',
      pass: percentile(edits, 95) <= 50,
    });
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

/** The stage filter's counts on the list, as shown ("Lead (12)", …). */
async function stageCounts(page: Page): Promise<string[]> {
  await page.goto('/');
  await expect(page.getByTestId('customer-list')).toHaveAttribute('data-ready', 'true');
  return page.getByTestId('filter-stage').locator('option').allTextContents();
}

/**
 * A new device (its own browser context) signs in to `email` and downloads the whole book.
 * Timed inside the page (Playwright's polling would add up to a second): from the sync
 * indicator leaving "on this device only" to its first "all changes backed up". Bytes are
 * the WebSocket payloads, counted with CDP.
 */
async function bootstrapNewDevice(browser: Browser, baseURL: string | undefined, email: string, name: string, profileName?: string) {
  const context = await browser.newContext({ baseURL, viewport: { width: 820, height: 1180 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    const w = window as any;
    w.syncPhases = [];
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push({ at: performance.timeOrigin + entry.startTime, ms: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
    new MutationObserver(() => {
      const status = document.querySelector('[data-testid="sync-status"]');
      const phase = status?.getAttribute('data-phase');
      const last = w.syncPhases[w.syncPhases.length - 1];
      if (phase && (!last || last.phase !== phase)) {
        w.syncPhases.push({ phase, at: performance.timeOrigin + performance.now() });
        performance.mark(`bench:phase-${phase}`);
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase'] });
    document.addEventListener(
      'click',
      (event) => {
        if ((event.target as Element).closest('[data-testid="submit"]')) w.submittedAt = performance.timeOrigin + performance.now();
      },
      true,
    );
  });
  const account = new AccountPage(page);
  await account.open();
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill('correct horse battery');
  await page.getByTestId('device-name').fill(name);
  const download = async () => {
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('account-email')).toHaveText(email);
    await account.expectBackedUp(30 * 60_000);
  };
  if (profileName) await profiled(page, profileName, download);
  else await download();
  const { submittedAt, phases } = await page.evaluate(() => ({
    submittedAt: (window as any).submittedAt as number,
    phases: (window as any).syncPhases as { phase: string; at: number }[],
  }));
  const timings = await engineTimings(page);
  const connectingAt = phases.find((p) => p.phase !== 'local')!.at;
  const syncedAt = phases.find((p) => p.phase === 'synced')!.at;
  const stored = (await page.getByTestId('stored-count').textContent())?.match(/(\d+) customers? on this device/)?.[1];
  return {
    context,
    page,
    seconds: (syncedAt - connectingAt) / 1000,
    bytes: await engineSocketBytes(page),
    /** WebSocket payload bytes counted so far on this device (it stays open). */
    bytesSoFar: () => engineSocketBytes(page),
    tasks: await longTasks(page, connectingAt, syncedAt),
    taskContext: await longTaskContext(page, connectingAt, syncedAt),
    signInSeconds: (connectingAt - submittedAt) / 1000,
    phases: phases.map((p) => p.phase),
    timings,
    stored,
  };
}

test(`sync between two browser devices: upload, bootstrap of ${syncSize} customers, live propagation`, async ({ browser, baseURL }) => {
  const email = `bench-${Date.now()}@example.com`;
  const phoneContext = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 } });
  const phone = await phoneContext.newPage();
  const phoneAccount = new AccountPage(phone);
  await phoneAccount.signIn(email, 'Phone');
  await phoneAccount.expectBackedUp();
  const uploadStarted = Date.now();
  details.push(`Sync bench: seeding ${syncSize} customers on the phone: ${await seed(phone, syncSize, 11)}`);
  await phoneAccount.open();
  await phoneAccount.expectBackedUp(30 * 60_000);
  details.push(`Sync bench: ${syncSize} customers created and backed up on the relay in ${((Date.now() - uploadStarted) / 1000).toFixed(1)} s (seeding included)`);

  // New devices sign in and download the book (several, for a median on a noisy machine).
  const downloads = [];
  for (let run = 0; run < bootstrapRuns; run++) {
    const download = await bootstrapNewDevice(browser, baseURL, email, `Tablet ${run + 1}`);
    downloads.push(download);
    if (run < bootstrapRuns - 1) await download.context.close();
  }
  if (profileDir) {
    const profiledDownload = await bootstrapNewDevice(browser, baseURL, email, 'Profiled tablet', `bootstrap-${syncSize}`);
    await profiledDownload.context.close();
  }
  // The download's long task is rare (in one of three downloads, or none): three traced.
  for (let run = 1; traceDir && run <= 3; run++) {
    fs.mkdirSync(traceDir, { recursive: true });
    const file = path.join(traceDir, `bootstrap-${syncSize}-${run}.json`);
    await browser.startTracing(undefined, {
      path: file,
      categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink.user_timing', 'disabled-by-default-v8.cpu_profiler'],
    });
    const traced = await bootstrapNewDevice(browser, baseURL, email, `Traced tablet ${run}`);
    // The sampling profiler hands its samples over in chunks: the last ones come later.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await browser.stopTracing();
    await traced.context.close();
    const trace = JSON.parse(fs.readFileSync(file, 'utf8'));
    const long = traceLongTasks(Array.isArray(trace) ? trace : trace.traceEvents);
    details.push(
      `Trace of a download (${path.basename(file)}; from the page's load; the download's long tasks by the Long Tasks API: ` +
        `${traced.tasks.count}, longest ${traced.tasks.longest.toFixed(0)} ms, ${traced.taskContext.join('; ') || 'none'}): ` +
        `renderer main-thread tasks over 50 ms, self time by event (ms): ${long.join(' | ') || 'none'}`,
    );
  }
  const tabletContext = downloads[downloads.length - 1].context;
  const tablet = downloads[downloads.length - 1].page;
  const bootstrapSeconds = median(downloads.map((d) => d.seconds));
  const wsBytes = median(downloads.map((d) => d.bytes));
  for (const [run, d] of downloads.entries()) {
    details.push(
      `Sync bench, new device ${run + 1}: ${d.seconds.toFixed(2)} s, holds ${d.stored} customers (archived included); ` +
        `sign-in (argon2id) ${d.signInSeconds.toFixed(2)} s before the download; phases ${d.phases.join(' → ')}; ` +
        `time by phase (ms, summed over pages): ` +
        Object.entries(d.timings)
          .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
          .join(', '),
    );
  }
  rows.push({
    figure: `new device bootstrap of ${syncSize} customers into IndexedDB (browser, loopback; from connecting to all stored; WebSocket payload bytes; median of ${bootstrapRuns})`,
    measured: `${bootstrapSeconds.toFixed(2)} s (runs: ${downloads.map((d) => d.seconds.toFixed(2)).join(', ')}), ${(wsBytes / 1e6).toFixed(2)} MB`,
    target: syncSize === 10_000 ? '≤ 3 s (issue 17), ≤ 10 MB' : '—',
    pass: syncSize === 10_000 ? bootstrapSeconds <= 3 && wsBytes <= 10e6 : null,
  });
  const longest = Math.max(...downloads.map((d) => d.tasks.longest));
  for (const [run, download] of downloads.entries()) {
    if (download.taskContext.length > 0) details.push(`Sync bench, download ${run + 1}: long tasks on the page: ${download.taskContext.join('; ')}`);
  }
  rows.push({
    figure: `longest main-thread task during a new device's bootstrap of ${syncSize} customers (Long Tasks API, from connecting to all stored; tasks over 50 ms, per run)`,
    measured: `${longest.toFixed(0)} ms; ${downloads.map((d) => d.tasks.count).join(', ')} tasks`,
    target: '≤ 50 ms',
    pass: syncSize === 10_000 ? longest <= 50 : null,
  });

  // Live propagation: the phone edits a customer's company; the tablet's list shows it.
  await phone.goto('/');
  await phone.getByTestId('customer-row').first().click();
  const name = (await phone.getByTestId('customer-heading').textContent())!.trim();
  await tablet.goto('/');
  await tablet.getByTestId('search').fill(name);
  await expect(tablet.getByTestId('customer-row').first()).toBeVisible();
  const latencies: number[] = [];
  for (let i = 0; i < propagationSamples; i++) {
    const token = `Propagated ${i} ${Date.now()}`;
    await watchListFor(tablet, token);
    const editedAt = await editCompany(phone, token);
    const seenAt: number = await tablet.evaluate(() => (window as any).seenAt);
    latencies.push(seenAt - editedAt);
    await tablet.waitForTimeout(50);
  }
  rows.push({
    figure: `edit on one device visible on another (browser to browser, loopback; ${propagationSamples} edits; p50 / p99)`,
    measured: `${percentile(latencies, 50).toFixed(1)} ms / ${percentile(latencies, 99).toFixed(1)} ms`,
    target: 'p50 ≤ 50 ms, p99 ≤ 250 ms',
    pass: percentile(latencies, 50) <= 50 && percentile(latencies, 99) <= 250,
  });

  // Catch-up: the tablet is closed (its IndexedDB kept) while the phone makes changes; the
  // tablet is opened again and pulls them. Timed from the tablet's connecting to caught up.
  const tabletDevice = downloads[downloads.length - 1];
  const catchUp = async (changes: () => Promise<string>) => {
    await tablet.goto('about:blank');
    details.push(`Sync bench, catch-up: ${await changes()}`);
    await phoneAccount.open();
    await phoneAccount.expectBackedUp(10 * 60_000);
    const bytesBefore = await tabletDevice.bytesSoFar();
    await tablet.goto('/account');
    const tabletAccount = new AccountPage(tablet);
    await tabletAccount.expectBackedUp(10 * 60_000);
    const timing = await tablet.evaluate(() => {
      const phases = (window as any).syncPhases as { phase: string; at: number }[];
      const connectingAt = phases.find((p) => p.phase !== 'local' && p.phase !== 'offline')!.at;
      const syncedAt = phases.find((p) => p.phase === 'synced')!.at;
      return {
        fromStart: syncedAt - performance.timeOrigin,
        fromConnecting: syncedAt - connectingAt,
        phases: phases.map((p) => p.phase),
      };
    });
    // "Connecting" as the page shows it can come late (the page busy with its own start
    // drew it after the relay's frames had arrived): the clock starts when the engine
    // asked its hub for the connection (`fieldbook:sync-connect`), on the same clock.
    const syncedAt = timing.fromStart + (await tablet.evaluate(() => performance.timeOrigin));
    const pageConnectingAt = syncedAt - timing.fromConnecting;
    let engineConnectAt = Number.NaN;
    for (const worker of tablet.workers()) {
      const at: number[] = await worker.evaluate(() => performance.getEntriesByName('fieldbook:sync-connect').map((m) => performance.timeOrigin + m.startTime));
      for (const t of at) if (t <= syncedAt && !(t <= engineConnectAt)) engineConnectAt = t;
    }
    if (!Number.isNaN(engineConnectAt)) {
      details.push(
        `Sync bench, catch-up: the engine asked for the connection ${(syncedAt - engineConnectAt).toFixed(0)} ms before "synced" showed; the page showed "connecting" ${timing.fromConnecting.toFixed(0)} ms before it`,
      );
      timing.fromConnecting = syncedAt - engineConnectAt;
    }
    const bytes = (await tabletDevice.bytesSoFar()) - bytesBefore;
    // The page's long tasks meanwhile (recorded from the page's start by the device's init
    // script, `bootstrapNewDevice`).
    const tasks = await longTasks(tablet, Number.isNaN(engineConnectAt) ? pageConnectingAt : engineConnectAt, syncedAt);
    // Where the time between connecting and caught up went: the page's and the engines'
    // marks on one clock (ms, modulo 100 s), from the start of the app.
    const marks = (who: string) =>
      performance.getEntriesByType('mark').map((m) => ({ who, name: m.name, at: performance.timeOrigin + m.startTime }));
    const all = await tablet.evaluate(marks, 'page');
    for (const worker of tablet.workers()) all.push(...(await worker.evaluate(marks, 'worker')));
    const timeline = all
      .sort((a, b) => a.at - b.at)
      .map((m) => `${m.who} ${m.name.replace('fieldbook:', '')} ${(m.at % 100000) | 0}`);
    const held = Number((await tablet.getByTestId('stored-count').textContent())?.match(/(\d+) customers? on this device/)?.[1]);
    const timings = await engineTimings(tablet);
    details.push(
      `Sync bench, catch-up: phases ${timing.phases.join(' → ')}; the tablet then holds ${held} customers; ` +
        `time by phase (ms, since the app opened): ` +
        Object.entries(timings)
          .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
          .join(', '),
    );
    details.push(`Sync bench, catch-up, page and engine marks: ${timeline.join(' | ')}`);
    return { ...timing, bytes, held, tasks };
  };

  // 500 new customers, each its own document.
  const added = await catchUp(async () => `the phone adds ${catchUpChanges} customers: ${await seed(phone, catchUpChanges, 12)}`);
  expect(added.held).toBe(syncSize + catchUpChanges);
  rows.push({
    figure: `catch-up after ${catchUpChanges} remote changes (a device reopened with ${syncSize} customers stored; from the engine asking to connect to caught up; from opening the app; WebSocket payload bytes)`,
    measured: `${added.fromConnecting.toFixed(0)} ms; ${added.fromStart.toFixed(0)} ms from opening; ${(added.bytes / 1e3).toFixed(0)} KB`,
    target: '—',
    pass: null,
  });
  rows.push({
    figure: `longest main-thread task during the catch-up after ${catchUpChanges} remote changes (Long Tasks API, from the engine asking to connect to caught up; tasks over 50 ms)`,
    measured: `${added.tasks.longest.toFixed(0)} ms; ${added.tasks.count} tasks`,
    target: '≤ 50 ms (issue 17)',
    pass: added.tasks.longest <= 50,
  });

  // Issue 17's case: existing customers changed elsewhere, a stage move and a call each.
  const stagesBefore = await stageCounts(tablet);
  const touched = await catchUp(async () => {
    await phone.goto(`/sample-data?touch=${catchUpTouched}&auto=1`);
    await expect(phone.getByTestId('sample-done')).toBeVisible({ timeout: 10 * 60_000 });
    return `the phone moves ${catchUpTouched} customers one stage on and logs a call with each (2 saves each)`;
  });
  expect(touched.held).toBe(syncSize + catchUpChanges);
  // The customers listed from their changes' projections are read back from their documents
  // a moment later (and compacted): what that costs the engine, after the catch-up.
  await expect
    .poll(async () => (await engineTimings(tablet))['verify: read back customers listed from projections'] ?? -1, { timeout: 30_000 })
    .toBeGreaterThanOrEqual(0);
  await tablet.waitForTimeout(1_000); // its later batches of 50
  {
    const timings = await engineTimings(tablet);
    details.push(
      `Sync bench, catch-up of ${catchUpTouched} changed customers: ${timings["apply: documents listed from their changes' projection"] ?? 0} listed from their changes' projections; ` +
        `read back 2 s later in ${(timings['verify: read back customers listed from projections'] ?? 0).toFixed(0)} ms of engine time ` +
        `(${timings['verify: customers listed again from their document'] ?? 0} listed again from their document)`,
    );
  }
  // The tablet did apply them: its stage counts moved.
  expect(await stageCounts(tablet)).not.toEqual(stagesBefore);
  rows.push({
    figure: `catch-up after ${catchUpTouched} customers changed elsewhere (a stage move and a call each, ${2 * catchUpTouched} changes; device reopened with ${syncSize + catchUpChanges} stored; from the engine asking to connect to all applied; WebSocket payload bytes)`,
    measured: `${touched.fromConnecting.toFixed(0)} ms; ${touched.fromStart.toFixed(0)} ms from opening; ${(touched.bytes / 1e3).toFixed(0)} KB`,
    target: syncSize === 10_000 ? '≤ 100 ms (issue 17)' : '—',
    pass: syncSize === 10_000 ? touched.fromConnecting <= 100 : null,
  });

  // "Recent changes" right after that catch-up: every customer changed elsewhere listed, each
  // read from its document (the first look of this browser: the last 7 days).
  await tablet.goto('/menu');
  await expect(tablet.locator('a[href="/recent"]')).toBeVisible();
  const recentMs = await timeUntil(tablet, 'a[href="/recent"]', '[data-testid="recent-change"]');
  const listed = await tablet.getByTestId('recent-change').count();
  rows.push({
    figure: `"Recent changes" after that catch-up: tap to the list drawn (${listed} changes listed: the ${catchUpTouched} customers changed, then the newest of the ${catchUpChanges} added; each customer's document read and its history put in words)`,
    measured: `${recentMs.toFixed(0)} ms`,
    target: '—',
    pass: null,
  });
  await phoneContext.close();
  await tabletContext.close();
});

const importRows = smoke ? 500 : 10_000;
const scanSizes = smoke ? [300] : [10_000, 50_000];
const timelineActivities = smoke ? 100 : 1_000;

/** A deterministic CSV export in HubSpot's layout, `n` rows. */
function hubspotCsv(n: number): string {
  const first = ['Ada', 'Grace', 'Alan', 'Marie', 'Zoë', 'Jean', 'Inès', 'Björn', 'Priya', 'Elena'];
  const last = ['Lovelace', 'Hopper', 'Turing', 'Curie', 'Dupont', 'Martin', 'Silva', 'Lindqvist', 'Patel', 'Tanaka'];
  const lines = ['Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,City,Lifecycle Stage'];
  for (let i = 0; i < n; i++) {
    const f = first[i % 10];
    const l = last[Math.floor(i / 10) % 10];
    lines.push(`${i + 1},${f},${l} ${i},${f.toLowerCase()}.${i}@example.com,+33 6 ${String(10_000_000 + i).slice(0, 8)},Company ${i % 700},Buyer,Lyon,lead`);
  }
  return lines.join('\n');
}

/**
 * Milliseconds from the page's next tap (its `click` event, heard before the app's own
 * handlers) until `selector` matches a rendered element — with `text`, one whose trimmed text
 * is `text` — checked in the page every animation frame, so the figure includes the frame
 * that shows it. `act` performs the tap from Playwright. Timing an `expect` from outside
 * instead rounds every figure up to Playwright's next retry, and its retries back off to one
 * every 500 ms: a 290 ms answer read as ~400 ms, a 2.3 s import as up to 2.8 s.
 */
async function timeFromTap(page: Page, act: () => Promise<unknown>, selector: string, text?: string, timeoutMs = 30 * 60_000): Promise<number> {
  await page.evaluate(
    ([selector, text, timeoutMs]) => {
      (window as any).fieldbookBenchTimer = new Promise<number>((resolve, reject) => {
        let tapped: number | null = null;
        document.addEventListener('click', () => (tapped ??= performance.mark('bench:tap').startTime), { capture: true, once: true });
        const shown = () =>
          Array.from(document.querySelectorAll(selector)).some(
            (element) => element.getClientRects().length > 0 && (text === null || element.textContent?.trim() === text),
          );
        const check = () => {
          if (tapped !== null && shown()) resolve(performance.mark('bench:seen').startTime - tapped);
          else if (performance.now() - (tapped ?? performance.now()) > timeoutMs) reject(new Error(`${selector} not shown after ${timeoutMs} ms`));
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      });
    },
    [selector, text ?? null, timeoutMs] as const,
  );
  await act();
  return page.evaluate(() => (window as any).fieldbookBenchTimer as Promise<number>);
}

/** Imports `csvFile` into an empty book on a fresh offline browser; seconds from tap to report. */
async function importCsv(
  baseURL: string,
  csvFile: string,
  profileName?: string,
): Promise<{ seconds: number; tasks: { longest: number; count: number }; phases: string }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
  try {
    let { context, page } = await launch(profile, baseURL);
    await timeToList(page);
    // Offline next: the service worker must hold the app first.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await context.close();
    ({ context, page } = await launch(profile, baseURL, true));
    await page.goto('/import');
    await page.getByTestId('import-file').setInputFiles(csvFile);
    await expect(page.getByTestId('import-layout')).toHaveText('Recognised as: HubSpot');
    await recordLongTasks(page);
    let ms = 0;
    const run = async () => {
      ms = await timeFromTap(page, () => page.getByTestId('import-run').click(), '[data-testid="import-report"]');
    };
    if (profileName) await profiled(page, profileName, run);
    else await run();
    const seconds = ms / 1000;
    await expect(page.getByTestId('import-summary')).toContainText(`${importRows} imported`);
    const tasks = await longTasks(page);
    // Where the time went: the page's parse and the engine's phases (summed).
    const timings = await engineTimings(page);
    const phases = Object.entries(timings)
      .filter(([name]) => /^(import|create|store):/.test(name))
      .map(([name, ms]) => `${name} ${Number(ms).toFixed(0)}`)
      .join(', ');
    await context.close();
    return { seconds, tasks, phases };
  } finally {
    removeProfile(profile);
  }
}

/** Starts recording the page's long tasks (Long Tasks API: main-thread tasks over 50 ms). */
async function recordLongTasks(page: Page) {
  await page.evaluate(() => {
    const w = window as any;
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push({ at: performance.timeOrigin + entry.startTime, ms: entry.duration });
    }).observe({ type: 'longtask' });
  });
}

/** The longest main-thread task and the number over 50 ms since `recordLongTasks`, between two times. */
async function longTasks(page: Page, from = 0, to = Infinity): Promise<{ longest: number; count: number }> {
  const tasks: { at: number; ms: number }[] = await page.evaluate(() => (window as any).longTasks ?? []);
  const within = tasks.filter((task) => task.at >= from && task.at <= to);
  return { longest: within.reduce((max, task) => Math.max(max, task.ms), 0), count: within.length };
}

/**
 * Each long task between two times, in words: when it began (ms after `from`), how long it
 * took, and the page's last marks before it and the first after (what it was part of).
 */
async function longTaskContext(page: Page, from: number, to: number): Promise<string[]> {
  return page.evaluate(
    ({ from, to }) => {
      const tasks: { at: number; ms: number }[] = ((window as any).longTasks ?? []).filter((task: { at: number }) => task.at >= from && task.at <= to);
      const marks = performance.getEntriesByType('mark').map((m) => ({ name: m.name, at: performance.timeOrigin + m.startTime }));
      return tasks.map((task) => {
        const before = marks.filter((m) => m.at <= task.at).slice(-3).map((m) => m.name);
        const inside = marks.filter((m) => m.at > task.at && m.at < task.at + task.ms).map((m) => `${m.name} +${(m.at - task.at).toFixed(0)}`);
        const after = marks.find((m) => m.at >= task.at + task.ms)?.name ?? 'none';
        return `${(task.at - from).toFixed(0)} ms in: ${task.ms.toFixed(0)} ms, after ${before.join(', ')}; inside: ${inside.join(', ') || 'no mark'}; next mark ${after}`;
      });
    },
    { from, to },
  );
}

/** Resolves (in the page) with the time `token` first appears in the customer list. */
async function watchListFor(page: Page, token: string) {
  await page.evaluate((token) => {
    (window as any).seenAt = new Promise<number>((resolve) => {
      const list = document.querySelector('[data-testid="customer-list"]')!;
      const observer = new MutationObserver(() => {
        if (list.textContent?.includes(token)) {
          observer.disconnect();
          resolve(performance.timeOrigin + performance.now());
        }
      });
      observer.observe(list, { subtree: true, childList: true, characterData: true });
    });
  }, token);
}

/** Sets the open customer's company to `token` as a rep leaving the field does; returns when. */
async function editCompany(page: Page, token: string): Promise<number> {
  return page.evaluate((token) => {
    const input = document.querySelector('[data-testid="field-company"]') as HTMLInputElement;
    const at = performance.timeOrigin + performance.now();
    input.value = token;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return at;
  }, token);
}

test('edit in one tab visible in another tab of the same browser', async ({ baseURL }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-tabs-'));
  try {
    const { context, page: writer } = await launch(profile, baseURL!);
    details.push(`Tabs bench: ${await seed(writer, smoke ? 50 : 1_000, 21)}`);
    const follower = await context.newPage();
    for (const tab of [writer, follower]) {
      await tab.goto('/');
      await expect(tab.getByTestId('customer-list')).toHaveAttribute('data-ready', 'true');
    }
    await expect.poll(() => writer.locator('body').getAttribute('data-tab-role')).toBe('writer');
    await expect.poll(() => follower.locator('body').getAttribute('data-tab-role')).toBe('follower');
    await writer.getByTestId('customer-row').first().click();
    await follower.getByTestId('customer-row').first().click();
    // Both customer pages are open (their fields drawn) before the first edit is timed.
    for (const tab of [writer, follower]) await expect(tab.getByTestId('field-company')).toBeVisible();
    const directions: Array<[string, Page, Page]> = [
      ['writer tab → other tab', writer, follower],
      ['other tab → writer tab (the edit is stored by the writer)', follower, writer],
    ];
    for (const [label, from, to] of directions) {
      const latencies: number[] = [];
      for (let i = 0; i < propagationSamples; i++) {
        const token = `Tabbed ${i} ${Date.now()}`;
        await watchListFor(to, token);
        const editedAt = await editCompany(from, token);
        const seenAt: number = await to.evaluate(() => (window as any).seenAt);
        latencies.push(seenAt - editedAt);
        await to.waitForTimeout(20);
      }
      rows.push({
        figure: `edit in one tab visible in another tab of the same browser, ${label} (${propagationSamples} edits; p50 / p99)`,
        measured: `${percentile(latencies, 50).toFixed(1)} ms / ${percentile(latencies, 99).toFixed(1)} ms`,
        target: 'p50 ≤ 30 ms',
        pass: percentile(latencies, 50) <= 30,
      });
    }
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

// CSV import of 10,000 rows, offline, into an empty book (progress shown throughout).
test(`CSV import of ${importRows} rows`, async ({ baseURL }) => {
  test.setTimeout(20 * 60_000);
  {
    const csvFile = path.join(os.tmpdir(), `fieldbook-bench-${Date.now()}.csv`);
    fs.writeFileSync(csvFile, hubspotCsv(importRows));
    try {
      const { seconds, tasks, phases } = await importCsv(baseURL!, csvFile);
      details.push(`CSV import of ${importRows} rows, time by phase (ms): ${phases}`);
      rows.push({
        figure: `CSV import of ${importRows} rows on the device, offline (tap Import to report)`,
        measured: `${seconds.toFixed(1)} s`,
        target: importRows === 10_000 ? '≤ 2.5 s, with progress shown' : '—',
        pass: importRows === 10_000 ? seconds <= 2.5 : null,
      });
      rows.push({
        figure: `longest main-thread task during the CSV import of ${importRows} rows (Long Tasks API; tasks over 50 ms)`,
        measured: `${tasks.longest.toFixed(0)} ms; ${tasks.count} tasks`,
        target: '≤ 50 ms',
        pass: importRows === 10_000 ? tasks.longest <= 50 : null,
      });
      if (profileDir) await importCsv(baseURL!, csvFile, `csv-import-${importRows}`);
    } finally {
      fs.rmSync(csvFile, { force: true });
    }
  }
});

test('customer management at scale: duplicate scan, long timeline', async ({ baseURL }) => {
  test.setTimeout(40 * 60_000);
  // Duplicate scan of the whole book.
  for (const n of scanSizes) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
    try {
      let { context, page } = await launch(profile, baseURL!);
      await seed(page, n, 11);
      await context.close();
      ({ context, page } = await launch(profile, baseURL!));
      await timeToList(page);
      const scans: number[] = [];
      for (let run = 0; run < (smoke ? 1 : 3); run++) {
        await page.goto('/duplicates');
        const summary = page.getByTestId('duplicates-summary');
        // The book loads after the screen: wait for the scan over all of it.
        await expect(summary).toContainText(`among ${n} customers (scanned in`, { timeout: 120_000 });
        const match = /(\d+) likely duplicate pairs? among (\d+) customers \(scanned in (\d+) ms\)/.exec((await summary.textContent()) ?? '');
        expect(match, 'summary format').not.toBeNull();
        scans.push(Number(match![3]));
        if (run === 0) details.push(`Duplicate scan, ${n} customers: ${match![1]} likely pairs.`);
      }
      rows.push({
        figure: `duplicate scan of the whole book, ${n} customers (median)`,
        measured: `${median(scans).toFixed(0)} ms`,
        target: '—',
        pass: null,
      });
      await context.close();
    } finally {
      removeProfile(profile);
    }
  }

  // A customer with 1,000 activities: tap in the list to the timeline rendered.
  {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
    try {
      let { context, page } = await launch(profile, baseURL!);
      await page.goto(`/sample-data?n=1&seed=5&activities=${timelineActivities}&auto=1`);
      await expect(page.getByTestId('sample-done')).toBeVisible({ timeout: 120_000 });
      await context.close();
      ({ context, page } = await launch(profile, baseURL!));
      const renders: number[] = [];
      for (let run = 0; run < (smoke ? 2 : 7); run++) {
        await timeToList(page);
        const started = Date.now();
        await page.getByTestId('customer-row').first().click();
        await expect(page.getByTestId('timeline-item')).toHaveCount(30);
        renders.push(Date.now() - started);
      }
      rows.push({
        figure: `customer page with ${timelineActivities} activities, tap to timeline shown (median; 30 shown, more on demand)`,
        measured: `${median(renders).toFixed(0)} ms`,
        target: '—',
        pass: null,
      });
      await context.close();
    } finally {
      removeProfile(profile);
    }
  }
});

const historyChanges = smoke ? 40 : 500;

// A customer's history (issue 20): a customer with 500 changes (one field edited 499 times
// after its creation), tap "History" to its newest 50 entries drawn (the engine computes all
// 500: a field's values need them); the first open after a browser restart (the engine
// reads the document from IndexedDB), then later opens.
test(`customer history of ${historyChanges} changes: first and later opens`, async ({ baseURL }) => {
  test.setTimeout(20 * 60_000);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
  try {
    let { context, page } = await launch(profile, baseURL!);
    await page.goto('/sample-data?n=1&seed=9&auto=1');
    await expect(page.getByTestId('sample-done')).toBeVisible({ timeout: 120_000 });
    await page.goto('/');
    await page.getByTestId('customer-row').first().click();
    const field = page.getByTestId('field-job_title');
    const status = page.getByTestId('customer-page').getByTestId('save-status');
    for (let change = 1; change < historyChanges; change++) {
      await field.fill(`Buyer ${change}`);
      await field.blur();
      await expect(status).toHaveAttribute('data-state', 'saved');
    }
    const customerUrl = new URL(page.url()).pathname;
    await context.close();
    ({ context, page } = await launch(profile, baseURL!));
    await page.goto(customerUrl);
    await expect(page.getByTestId('open-history')).toBeVisible();
    const opens: number[] = [];
    for (let run = 0; run < (smoke ? 2 : 6); run++) {
      // The newest 50 entries are drawn, with "Show more" for the rest.
      const shownAtOnce = Math.min(historyChanges, 50);
      const ms = await timeUntil(
        page,
        '[data-testid="open-history"]',
        `[data-testid="history-entry"]:nth-child(${shownAtOnce})`,
      );
      opens.push(ms);
      await expect(page.getByTestId('history-entry')).toHaveCount(shownAtOnce);
      if (historyChanges > shownAtOnce) {
        await expect(page.getByTestId('history-more')).toHaveText(`Show more (${historyChanges - shownAtOnce} earlier)`);
      }
      await page.getByTestId('back').click();
      await expect(page.getByTestId('open-history')).toBeVisible();
    }
    const later = opens.slice(1);
    rows.push({
      figure: `customer history, ${historyChanges} changes: first open after a browser restart (document read from IndexedDB), tap to the newest 50 entries drawn (all computed)`,
      measured: `${opens[0].toFixed(0)} ms`,
      target: '≤ 200 ms (issue 20)',
      pass: opens[0] <= 200,
    });
    rows.push({
      figure: `customer history, ${historyChanges} changes: later opens (median of ${later.length}; runs: ${later.map((ms) => ms.toFixed(0)).join(', ')})`,
      measured: `${median(later).toFixed(0)} ms`,
      target: '≤ 50 ms (issue 20)',
      pass: median(later) <= 50,
    });
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

const eraseBookSize = smoke ? 300 : 10_000;

test(`erasing a customer's history in a book of ${eraseBookSize} customers`, async ({ baseURL }) => {
  test.setTimeout(20 * 60_000);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
  try {
    const { context, page } = await launch(profile, baseURL!);
    await seed(page, eraseBookSize, 11);
    await page.goto('/');
    await page.getByTestId('customer-row').first().click();
    await expect(page.getByTestId('open-history')).toBeVisible();
    const customerUrl = new URL(page.url()).pathname;
    await page.goto(`${customerUrl}/erase`);
    await page.getByTestId('erase-understood').check();
    // From the tap to the kept customer's page: the new document and the erasure stored
    // (with the list's snapshot rewritten without the old customer) and the page drawn.
    const ms = await timeUntil(page, '[data-testid="erase-confirm"]', '[data-testid="open-history"]');
    await expect(page).not.toHaveURL(customerUrl);
    const timings = await engineTimings(page);
    rows.push({
      figure: `erase a customer's history, keeping the customer, in a book of ${eraseBookSize}: tap to the kept customer's page (of which the list's snapshot without the old customer: ${(timings['store: snapshot without erased customers'] ?? 0).toFixed(0)} ms)`,
      measured: `${ms.toFixed(0)} ms`,
      target: '— (a rare action; no target)',
      pass: null,
    });
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

// FIELDBOOK_BENCH_DASHBOARD_SIZES=10000 runs one size only (a partial run).
const dashboardSizes = smoke
  ? [300]
  : (process.env.FIELDBOOK_BENCH_DASHBOARD_SIZES?.split(',').map(Number) ?? [10_000, 50_000]);

/**
 * The page's and its engines' marks from the last `bench:tap` on, as "who name +ms" on the
 * page's clock: where the time between a tap and what it showed went.
 */
async function marksSinceTap(page: Page): Promise<string> {
  const marks = (who: string) => performance.getEntriesByType('mark').map((m) => ({ who, name: m.name, at: performance.timeOrigin + m.startTime }));
  const all = await page.evaluate(marks, 'page');
  for (const worker of page.workers()) all.push(...(await worker.evaluate(marks, 'worker')));
  const tap = all.filter((m) => m.name === 'bench:tap').at(-1)?.at ?? 0;
  return all
    .filter((m) => m.at >= tap)
    .sort((a, b) => a.at - b.at)
    .map((m) => `${m.who} ${m.name} +${(m.at - tap).toFixed(0)}`)
    .join(' | ');
}

/**
 * Runs `action` in the page and resolves with the milliseconds until `selector` matches,
 * checked every animation frame (so the time includes the frame that shows it).
 */
function timeUntil(page: Page, action: string, selector: string): Promise<number> {
  return page.evaluate(
    ([action, selector]) =>
      new Promise<number>((resolve) => {
        // Marks beside the app's own, so a list of marks shows where the tap and the look fell.
        const started = performance.mark('bench:tap').startTime;
        (document.querySelector(action) as HTMLElement).click();
        const check = () =>
          document.querySelector(selector) ? resolve(performance.mark('bench:seen').startTime - started) : requestAnimationFrame(check);
        check();
      }),
    [action, selector],
  );
}

test('dashboards over large books: open, and switch the period', async ({ baseURL }) => {
  test.setTimeout(60 * 60_000);
  for (const n of dashboardSizes) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
    try {
      let { context, page } = await launch(profile, baseURL!);
      await page.goto(`/sample-data?n=${n}&seed=21&records=1&auto=1`);
      await expect(page.getByTestId('sample-done')).toBeVisible({ timeout: 40 * 60_000 });
      details.push(`Dashboard book, ${n} customers with histories: ${(await page.getByTestId('sample-done').textContent()) ?? ''}`);
      await context.close();
      const firstOpens: number[] = [];
      const opens: number[] = [];
      const switches: number[] = [];
      const computes: number[] = [];
      for (let run = 0; run < (smoke ? 2 : 5); run++) {
        ({ context, page } = await launch(profile, baseURL!));
        await timeToList(page);
        await page.goto('/menu');
        await expect(page.getByTestId('menu-dashboard')).toBeVisible();
        // The app (re)started with the menu: let it finish reading the book first.
        await page.waitForFunction(() => performance.getEntriesByName('fieldbook:book-built').length > 0);
        if (run === 0) {
          // The first open ever on this device: every customer's facts are read on the tap.
          firstOpens.push(await timeUntil(page, '[data-testid="menu-dashboard"]', '[data-testid="dashboard-body"]'));
          const meta = (await page.getByTestId('dashboard-meta').textContent()) ?? '';
          // Where the first open spends its time: the IndexedDB read, then decoding.
          const timings = await engineTimings(page);
          const ms = (key: string) => `${Number(timings[key] ?? 0).toFixed(0)} ms`;
          // The screens' side: from the tap's route to the question, and to the answer.
          const [asked, computed, drawn] = await page.evaluate(() =>
            ['fieldbook:dashboard-asked', 'fieldbook:dashboard-computed'].map((name) => performance.getEntriesByName(name).at(-1)?.startTime ?? 0).concat(performance.now()),
          );
          details.push(
            `Dashboard, ${n} customers: ${meta}; first open: IndexedDB read and decoding of the facts (snapshot, or every record) ` +
              `${ms('dashboard: facts read and decode')}, of which decoding the snapshot ${ms("dashboard: facts' snapshot decode")} ` +
              `(read and indexed, ${ms('dashboard: read facts')}; facts made from documents ${ms('dashboard: facts made from documents')}; ` +
              `figures computed ${ms('dashboard: compute')}; requests ${timings['dashboard: requests'] ?? 0}, ` +
              `facts in memory after ${ms('dashboard: facts in memory')} summed over them; in the engine ${ms('dashboard: in the engine')}, ` +
              `of which posting the answer ${ms('dashboard: answer posted')}; the screens asked, then had the answer ${(computed - asked).toFixed(0)} ms later, ` +
              `${(drawn - computed).toFixed(0)} ms before the bench looked).`,
          );
        } else {
          // A rep who uses the dashboard: the app read the facts a moment after start.
          await page.waitForFunction(() => performance.getEntriesByName('fieldbook:facts-preloaded').length > 0, null, { timeout: 60_000 });
          opens.push(await timeUntil(page, '[data-testid="menu-dashboard"]', '[data-testid="dashboard-body"]'));
        }
        if (run === 1) {
          // Memory with everything a rep uses loaded: the list, a customer, the dashboard.
          rows.push(memoryRow(`client memory with ${n} customers with histories, dashboard open (facts in memory)`, await memoryMB(page), n));
        }
        // Another period is computed and drawn.
        const year = await page.getByTestId('period-year').getAttribute('aria-pressed');
        const target = year === 'true' ? 'quarter' : 'year';
        switches.push(
          await timeUntil(page, `[data-testid="period-${target}"]`, `[data-testid="dashboard-body"][data-query^="period=${target}"]`),
        );
        const computed = /computed in ([\d.]+) ms/.exec((await page.getByTestId('dashboard-meta').textContent()) ?? '');
        expect(computed, 'dashboard meta').not.toBeNull();
        computes.push(Number(computed![1]));
        await context.close();
      }
      // A first open ever, again on a restarted browser, for a median.
      // (With profiling, one more that does not count, under the profiler.)
      const extraFirstOpens = smoke ? 0 : 2;
      // The same first open once the engine has finished starting (its writer ready, then
      // a second of idle): what the dashboard's own first read costs, without the start's
      // work competing for the worker — a diagnostic beside the figure above.
      const settledFirstOpens: number[] = [];
      const settledRuns = smoke ? 0 : 3;
      for (let run = 0; run < extraFirstOpens + settledRuns + (profileDir && n === dashboardSizes[0] ? 1 : 0); run++) {
        ({ context, page } = await launch(profile, baseURL!));
        await timeToList(page);
        await page.evaluate(() => localStorage.removeItem('fieldbook-dashboard-used'));
        await context.close();
        ({ context, page } = await launch(profile, baseURL!));
        await timeToList(page);
        await page.goto('/menu');
        await expect(page.getByTestId('menu-dashboard')).toBeVisible();
        await page.waitForFunction(() => performance.getEntriesByName('fieldbook:book-built').length > 0);
        const open = () => timeUntil(page, '[data-testid="menu-dashboard"]', '[data-testid="dashboard-body"]');
        if (run >= extraFirstOpens && run < extraFirstOpens + settledRuns) {
          await expect
            .poll(async () => {
              for (const worker of page.workers()) {
                if (await worker.evaluate(() => performance.getEntriesByName('fieldbook:writer-ready').length > 0)) return true;
              }
              return false;
            })
            .toBe(true);
          await page.waitForTimeout(1_000);
          settledFirstOpens.push(await open());
          const timings = await engineTimings(page);
          details.push(
            `Dashboard, ${n} customers, first open with the engine settled ${run - extraFirstOpens + 1}: ${settledFirstOpens.at(-1)!.toFixed(0)} ms; ` +
              ['dashboard: read facts', "dashboard: facts' snapshot decode", 'dashboard: facts made from documents', 'dashboard: compute', 'dashboard: answer posted', 'dashboard: in the engine']
                .map((name) => `${name} ${Number(timings[name] ?? 0).toFixed(0)}`)
                .join(', '),
          );
          details.push(
            `Dashboard, ${n} customers, first open with the engine settled ${run - extraFirstOpens + 1}, marks from the tap (ms): ${await marksSinceTap(page)}`,
          );
        } else if (run < extraFirstOpens) {
          firstOpens.push(await open());
          const timings = await engineTimings(page);
          details.push(
            `Dashboard, ${n} customers, first open ${run + 2}: ${firstOpens.at(-1)!.toFixed(0)} ms; time by phase since the start (ms): ` +
              Object.entries(timings)
                .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
                .join(', '),
          );
          const marks = (who: string) =>
            performance.getEntriesByType('mark').map((m) => `${who} ${m.name} ${(performance.timeOrigin + m.startTime) % 100000 | 0}`);
          const all = await page.evaluate(marks, 'page');
          for (const worker of page.workers()) all.push(...(await worker.evaluate(marks, 'worker')));
          details.push(
            `Dashboard, ${n} customers, first open ${run + 2}, page and engine marks (ms on one clock, modulo 100 s): ` +
              all.sort((a, b) => Number(a.split(' ').at(-1)) - Number(b.split(' ').at(-1))).join(' | '),
          );
        } else await profiled(page, `dashboard-first-open-${n}`, open);
        await context.close();
      }
      const target = n === 10_000 ? '≤ 200 ms' : '—';
      rows.push({
        figure: `dashboard over ${n} customers with histories: tap to figures and charts drawn, after a browser restart, facts read in the background after start (a rep who uses the dashboard; median of ${opens.length})`,
        measured: `${median(opens).toFixed(0)} ms (runs: ${opens.map((v) => v.toFixed(0)).join(', ')})`,
        target,
        pass: n === 10_000 ? median(opens) <= 200 : null,
      });
      rows.push({
        figure: `dashboard over ${n} customers: first open after a browser restart (reads every customer's facts on the tap; the first run right after the book was written, median of ${firstOpens.length})`,
        measured: `${median(firstOpens).toFixed(0)} ms (runs: ${firstOpens.map((v) => v.toFixed(0)).join(', ')})`,
        target: n === 10_000 ? '≤ 150 ms (issue 17)' : '—',
        pass: n === 10_000 ? median(firstOpens) <= 150 : null,
      });
      if (settledFirstOpens.length > 0) {
        rows.push({
          figure: `dashboard over ${n} customers: first open after a browser restart, tapped once the engine had finished starting (a diagnostic of the figure above: the facts' read, decode and figures without the start competing; median of ${settledFirstOpens.length})`,
          measured: `${median(settledFirstOpens).toFixed(0)} ms (runs: ${settledFirstOpens.map((v) => v.toFixed(0)).join(', ')})`,
          target: '—',
          pass: null,
        });
      }
      rows.push({
        figure: `dashboard over ${n} customers: switch the period, compute (both periods) and draw (median)`,
        measured: `${median(switches).toFixed(0)} ms, of which computing ${median(computes).toFixed(1)} ms`,
        target,
        pass: n === 10_000 ? median(switches) <= 200 : null,
      });
    } finally {
      removeProfile(profile);
    }
  }
});

const territorySize = smoke ? 100 : 5_000;
test(`team dashboard over two territories of ${territorySize} customers: a manager's new device, then restarts`, async ({ browser, baseURL }) => {
  test.setTimeout(60 * 60_000);
  // The admin's tablet writes both territories (sample customers with histories).
  const admin = await openDevice(browser, baseURL, `bench-admin-${Date.now()}@example.com`, 'Admin tablet', false, tabletSize);
  const adminTeam = new TeamPage(admin.page);
  const team = `Bench team ${Date.now()}`;
  await adminTeam.start(team, 'North');
  await adminTeam.addTerritory('South');
  const forManager = await adminTeam.invite('manager', []);
  for (const [territory, seedValue] of [['North', 31], ['South', 32]] as const) {
    await openTerritory(admin.page, team, territory);
    details.push(`Team territory ${territory}: ${await seed(admin.page, territorySize, seedValue, '&records=1')}`);
    await admin.page.goto('/');
    await admin.account.expectBackedUp(smoke ? 60_000 : 30 * 60_000);
  }
  // What the team dashboard counts (archived sample customers are not counted): as the
  // admin's device, which holds both territories, shows it.
  const adminDashboard = new TeamDashboardPage(admin.page);
  await adminDashboard.open(team);
  await adminDashboard.waitTerritoriesSynced(2);
  const total = (await adminDashboard.teamFigure('team-customers').textContent()) ?? '';
  expect(Number(total)).toBeGreaterThan(territorySize);
  await admin.context.close();

  // The manager's new device: the team dashboard downloads both territories (an engine
  // each) and counts them.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-bench-'));
  try {
    let { context, page } = await launch(profile, baseURL!);
    const account = new AccountPage(page);
    await account.signIn(`bench-manager-${Date.now()}@example.com`, 'Manager phone');
    await account.expectBackedUp();
    await new TeamPage(page).join(forManager.code);
    await new TeamPage(page).openTeam(team);
    const dashboard = new TeamDashboardPage(page);
    const teamCustomers = '[data-testid="team-customers"] [data-testid="kpi-value"]';
    const download = await timeFromTap(page, () => page.getByTestId('team-dashboard-link').click(), teamCustomers, total.trim());
    await expect(dashboard.teamFigure('team-customers')).toHaveText(total);
    await dashboard.waitTerritoriesSynced(2);
    const bytes = await engineSocketBytes(page);
    details.push(`Manager's new device, engine timings after both downloads (ms, every engine of the tab): ${Object.entries(await engineTimings(page)).map(([k, v]) => `${k} ${Math.round(Number(v))}`).join(', ')}`);
    details.push(`Manager's new device, marks from the tap (ms): ${await marksSinceTap(page)}`);
    rows.push({
      figure: `manager's new device: team dashboard over 2 territories × ${territorySize} customers with histories, tap to figures counting all (both downloaded by an engine each)`,
      measured: `${(download / 1000).toFixed(2)} s, ${(bytes / 1e6).toFixed(1)} MB over the sockets`,
      target: '≤ 3 s for 10,000 (a new device storing everything, issue 17)',
      pass: smoke ? null : download <= 3000,
    });
    await context.close();
    // After a restart both territories are on the device: tap to figures. Every other
    // run first drops the figures the device kept (as when a territory changed since): the
    // engine reads both databases and computes; otherwise it finds every territory's data
    // version unchanged and the kept figures are shown.
    const opensKept: number[] = [];
    const opensComputed: number[] = [];
    const perRead: number[] = [];
    const perCompute: number[] = [];
    const perAnswer: number[] = [];
    for (let run = 0; run < (smoke ? 2 : 10); run++) {
      const compute = run % 2 === 1;
      ({ context, page } = await launch(profile, baseURL!));
      await timeToList(page);
      await new TeamPage(page).openTeam(team);
      if (compute) await page.evaluate(() => localStorage.removeItem('fieldbook-team-figures'));
      const again = new TeamDashboardPage(page);
      const open = await timeFromTap(page, () => page.getByTestId('team-dashboard-link').click(), teamCustomers, total.trim(), 60_000);
      await expect(again.teamFigure('team-customers')).toHaveText(total);
      (compute ? opensComputed : opensKept).push(open);
      await again.waitTerritoriesSynced(2);
      const timings = await engineTimings(page);
      if (compute) {
        details.push(`Team dashboard computed after restart ${run}, engine timings (ms, every engine of the tab): ${Object.entries(timings).map(([k, v]) => `${k} ${Math.round(Number(v))}`).join(', ')}`);
        details.push(`Team dashboard computed after restart ${run}, marks from the tap (ms): ${await marksSinceTap(page)}`);
        perRead.push(timings['team dashboard: read territories'] ?? 0);
        perCompute.push(timings['team dashboard: compute'] ?? 0);
      } else {
        perAnswer.push(timings['team dashboard: answer'] ?? 0);
        expect(timings['team dashboard: compute'] ?? 0, 'the kept figures were shown, not computed again').toBe(0);
      }
      await context.close();
    }
    rows.push({
      figure: `team dashboard over 2 territories × ${territorySize} customers on the device, after a browser restart, nothing changed since the figures were last computed on the device: tap to figures (median of ${opensKept.length}; the engine checks each territory's data version and the kept figures are shown)`,
      measured: `${median(opensKept).toFixed(0)} ms (runs: ${opensKept.map((v) => v.toFixed(0)).join(', ')}); the engine's check ${median(perAnswer).toFixed(0)} ms`,
      target: '≤ 150 ms (a book\'s dashboard, first open)',
      pass: smoke ? null : median(opensKept) <= 150,
    });
    rows.push({
      figure: `the same with no figures kept (as after a change in a territory): tap to figures (median of ${opensComputed.length}; the engine reads both databases at once and computes team, territories, reps and the previous period)`,
      measured: `${median(opensComputed).toFixed(0)} ms (runs: ${opensComputed.map((v) => v.toFixed(0)).join(', ')}); in the engine: reading ${median(perRead).toFixed(0)} ms, computing ${median(perCompute).toFixed(0)} ms`,
      target: '≤ 150 ms (a book\'s dashboard, first open)',
      pass: smoke ? null : median(opensComputed) <= 150,
    });
  } finally {
    removeProfile(profile);
  }
});

test('reconnect with nothing new: a rep with her own book and three territories kept in sync', async ({ browser, baseURL }) => {
  const admin = await openDevice(browser, baseURL, `bench-admin-r-${Date.now()}@example.com`, 'Admin tablet', false, tabletSize);
  const adminTeam = new TeamPage(admin.page);
  const team = `Bench reconnect ${Date.now()}`;
  const territories = ['North', 'East', 'West'];
  await adminTeam.start(team, territories[0]);
  for (const territory of territories.slice(1)) await adminTeam.addTerritory(territory);
  const forRep = await adminTeam.invite('rep', territories);
  await admin.context.close();
  // She joins and stays in her own book: her territories are kept by engines of their own.
  const rep = await openDevice(browser, baseURL, `bench-rep-r-${Date.now()}@example.com`, 'Rep phone', false);
  await new TeamPage(rep.page).join(forRep.code);
  const books = new BooksMenu(rep.page);
  await books.open();
  const statuses = territories.map((t) => books.status(`${team} · ${t}`));
  for (const status of statuses) await expect(status).toContainText('All changes backed up', { timeout: 30_000 });
  const before = await socketCounters(rep.page);
  await rep.context.setOffline(true);
  for (const status of statuses) await expect(status).toContainText('Offline', { timeout: 15_000 });
  await expect(rep.page.getByTestId('sync-status')).toHaveAttribute('data-phase', 'offline');
  const started = Date.now();
  await rep.context.setOffline(false);
  await expect(rep.page.getByTestId('sync-status')).toHaveAttribute('data-phase', 'synced', { timeout: 30_000 });
  for (const status of statuses) await expect(status).toContainText('All changes backed up', { timeout: 30_000 });
  const ms = Date.now() - started;
  const after = await socketCounters(rep.page);
  const bytes = after.bytes - before.bytes;
  const sockets = after.opened - before.opened;
  const sends = after.sends - before.sends;
  const receives = after.receives - before.receives;
  const engines = rep.page.workers().length;
  rows.push({
    figure: `reconnect with nothing new in the browser: a rep's device with her own book and ${territories.length} territories of a team kept in sync (${engines} engines, one per book; one socket for the device, each book's spaces as channels on it)`,
    measured: `${bytes} bytes (payload, both ways) over ${sockets} socket(s): ${sends} message(s) sent, ${receives} received; ${ms} ms from online to every book backed up`,
    target: '1 round trip, ≤ 1 KB per device (issue 21)',
    pass: smoke ? null : bytes <= 1024 && sockets === 1 && sends === 1 && receives === 1,
  });
  await rep.context.close();
});

test.afterAll(() => {
  // The relay's rows and notes, measured by scripts/bench.sh before this file ran.
  const relayFile = process.env.FIELDBOOK_RELAY_MEASURE;
  if (relayFile && fs.existsSync(relayFile)) {
    const relayNotes: string[] = [];
    for (const line of fs.readFileSync(relayFile, 'utf8').split('\n')) {
      if (line.startsWith('BENCH-ROW\t')) {
        const [, figure, measured, target, result] = line.split('\t');
        rows.push({ figure, measured, target, pass: result === '—' ? null : result === 'pass' });
      } else if (/^(seed|idle reconnect|bootstrap|acknowledged|propagation|relay peak|load:|signed in|connected|relay memory|several relays)/.test(line)) {
        relayNotes.push(`Relay: ${line}`);
      }
    }
    details.push('', ...relayNotes);
  }
  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown';
  const memGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  const chromiumVersion = execSync('/usr/bin/chromium --version 2>/dev/null || true').toString().trim();
  const lines = [
    '# Benchmarks',
    '',
    'Produced by `scripts/bench.sh` (client figures in headless Chromium against the release build).',
    '',
    `- date: ${new Date().toISOString()}`,
    `- commit: ${commit}`,
    `- machine: ${os.cpus().length} cores (${cpu}), ${memGiB} GiB memory, ${os.type()} ${os.release()}`,
    `- browser: ${chromiumVersion}`,
    smoke ? '- mode: SMOKE (small books; figures not comparable with targets)' : '- mode: full',
    '',
    '| figure | measured | target | result |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.figure} | ${row.measured} | ${row.target} | ${row.pass === null ? '—' : row.pass ? 'pass' : 'MISS'} |`),
    '',
    ...details,
    '',
    ...(fs.existsSync(path.join(__dirname, 'analysis.md'))
      ? [fs.readFileSync(path.join(__dirname, 'analysis.md'), 'utf8')]
      : []),
  ];
  const out = process.env.FIELDBOOK_BENCH_OUT
    ? process.env.FIELDBOOK_BENCH_OUT
    : smoke
    ? path.join(os.tmpdir(), 'fieldbook-bench-smoke.md')
    : path.join(__dirname, '..', '..', 'BENCHMARKS.md');
  fs.writeFileSync(out, lines.join('\n'));
  console.log(lines.join('\n'));
  console.log(`written to ${out}`);
});

/** What the page's engines counted on the device's one socket (whichever engine holds it): payload bytes both ways, sockets opened, messages sent and received. */
async function socketCounters(page: Page): Promise<{ bytes: number; opened: number; sends: number; receives: number }> {
  const total = { bytes: 0, opened: 0, sends: 0, receives: 0 };
  for (const worker of page.workers()) {
    const c = await worker.evaluate(() => {
      const self_ = self as any;
      return { bytes: self_.fieldbookSocketBytes ?? 0, opened: self_.fieldbookSocketsOpened ?? 0, sends: self_.fieldbookSocketSends ?? 0, receives: self_.fieldbookSocketReceives ?? 0 };
    });
    total.bytes += c.bytes;
    total.opened += c.opened;
    total.sends += c.sends;
    total.receives += c.receives;
  }
  return total;
}

/** WebSocket payload bytes this page's engine worker has sent and received (its sync runtime counts them: the socket lives in the worker, out of reach of the page's DevTools session). */
async function engineSocketBytes(page: Page): Promise<number> {
  let bytes = 0;
  for (const worker of page.workers()) bytes += await worker.evaluate(() => (self as any).fieldbookSocketBytes ?? 0);
  return bytes;
}

/** The `fieldbookTimings` totals of the page and of its engine worker, added up by name. */
async function engineTimings(page: Page): Promise<Record<string, number>> {
  const all: Record<string, number> = {};
  const scopes = [await page.evaluate(() => (window as any).fieldbookTimings ?? {})];
  for (const worker of page.workers()) scopes.push(await worker.evaluate(() => (self as any).fieldbookTimings ?? {}));
  for (const timings of scopes) for (const [name, ms] of Object.entries(timings as Record<string, number>)) all[name] = (all[name] ?? 0) + ms;
  return all;
}

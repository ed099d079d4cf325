// Lighthouse accessibility and best-practices on the screens a rep uses most — the list,
// a customer's page, quick capture and the dashboard — with a book in the browser (50 sample
// customers with records), as a phone (Lighthouse's mobile emulation).
//
// Lighthouse starts every run from a fresh profile unless told otherwise; here it drives a
// Chromium launched by Playwright with a persistent profile that holds the book, and keeps its
// storage (disableStorageReset), so the customer page and the dashboard show real data.
//
//   node e2e/bench/lighthouse_screens.mjs http://127.0.0.1:8097
//
// Prints each screen's two scores and every failing audit; exits 1 when a score is below 100.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import lighthouse from 'lighthouse';

const base = process.argv[2] ?? 'http://127.0.0.1:8097';
const port = Number(process.env.FIELDBOOK_LIGHTHOUSE_DEBUG_PORT ?? 9233);
const profile = mkdtempSync(join(tmpdir(), 'fieldbook-lighthouse-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [`--remote-debugging-port=${port}`, '--no-sandbox', '--disable-gpu'],
  viewport: { width: 390, height: 844 },
});
let failed = false;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${base}/sample-data?n=50&seed=7&records=1&auto=1`);
  await page.getByTestId('sample-done').waitFor({ timeout: 120_000 });
  await page.goto(`${base}/`);
  await page.getByTestId('customer-row').first().click();
  await page.getByTestId('customer-heading').waitFor();
  const customer = new URL(page.url()).pathname;

  const screens = [
    ['list', '/'],
    ['customer', customer],
    ['capture', '/capture'],
    ['dashboard', '/dashboard'],
  ];
  for (const [name, path] of screens) {
    const result = await lighthouse(
      `${base}${path}`,
      { port, output: 'json', logLevel: 'error', disableStorageReset: true },
      {
        extends: 'lighthouse:default',
        settings: {
          onlyCategories: ['accessibility', 'best-practices'],
          formFactor: 'mobile',
          screenEmulation: { mobile: true, width: 390, height: 844, deviceScaleFactor: 3, disabled: false },
          // The screens render after the engine answers: wait for the page to settle.
          pauseAfterLoadMs: 3000,
          networkQuietThresholdMs: 2000,
          cpuQuietThresholdMs: 2000,
        },
      },
    );
    const { categories, audits } = result.lhr;
    const scores = ['accessibility', 'best-practices'].map((id) => Math.round(categories[id].score * 100));
    console.log(`${name} (${path}): accessibility ${scores[0]}, best practices ${scores[1]}`);
    for (const id of ['accessibility', 'best-practices']) {
      for (const ref of categories[id].auditRefs) {
        const audit = audits[ref.id];
        if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
          const items = (audit.details?.items ?? [])
            .slice(0, 5)
            .map((item) => item.node?.snippet ?? item.source?.url ?? item.description ?? JSON.stringify(item).slice(0, 160));
          console.log(`  - ${id}: ${audit.id} — ${audit.title}${items.length ? `\n      ${items.join('\n      ')}` : ''}`);
        }
      }
    }
    if (scores.some((score) => score < 100)) failed = true;
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import { axeViolations, type Violation } from './fixtures/axe';
import { CustomerListPage } from './fixtures/customer_list_page';

// axe (axe-core, injected) on every screen at phone and tablet size: no violation of any
// impact. The rules violated, per screen and impact, are written to
// test-results/accessibility-<size>.json for the report.
test.use({ bypassCSP: true });

const sizes = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'tablet', width: 820, height: 1180 },
];

for (const size of sizes) {
  test(`no accessibility violation on any screen (${size.name})`, async ({ page }) => {
    test.setTimeout(180_000);
    await page.setViewportSize({ width: size.width, height: size.height });
    const list = new CustomerListPage(page);
    await list.open();
    await list.addSampleCustomers(30, 2);
    // The ten sample custom fields, filled on one more customer: every screen shows them.
    await page.goto('/sample-data?n=1&seed=3&fields=1&auto=1');
    await expect(page.getByTestId('sample-done')).toBeVisible({ timeout: 30_000 });
    await list.open();
    await expect(list.rows.first()).toBeVisible();
    await list.rows.first().click();
    await expect(page.getByTestId('customer-heading')).toBeVisible();
    const customer = new URL(page.url()).pathname;
    const screens: [string, string][] = [
      ['list', '/'],
      ['customer', customer],
      ['history', `${customer}/history`],
      ['field-history', `${customer}/history/stage`],
      ['erase', `${customer}/erase`],
      ['new-customer', '/customers/new'],
      ['capture', '/capture'],
      ['menu', '/menu'],
      ['recent', '/recent'],
      ['follow-ups', '/follow-ups'],
      ['products', '/products'],
      ['pipeline', '/pipeline'],
      ['segments', '/segments'],
      ['dashboard', '/dashboard'],
      ['dashboard-customers', '/dashboard/customers'],
      ['settings', '/settings'],
      ['fields', '/settings/fields'],
      ['import', '/import'],
      ['duplicates', '/duplicates'],
      ['account', '/account'],
      ['sample-data', '/sample-data'],
    ];
    const report: Record<string, Record<string, string[]>> = {};
    const failures: string[] = [];
    for (const [name, path] of screens) {
      await page.goto(path);
      await expect(page.locator('.app')).toBeVisible();
      // Let the screen settle (data read from IndexedDB, the engine's answers).
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(300);
      const violations: Violation[] = await axeViolations(page);
      report[name] = {};
      for (const v of violations) {
        (report[name][v.impact] ??= []).push(v.id);
        // Every screen is clean of every impact (the bar is 0 critical and 0
        // serious; the moderate ones, heading order and a missing h1, are fixed too).
        failures.push(`${name}: ${v.impact} ${v.id} (${v.help}): ${v.nodes.join(' | ')}`);
      }
    }
    fs.mkdirSync('test-results', { recursive: true });
    fs.writeFileSync(`test-results/accessibility-${size.name}.json`, JSON.stringify(report, null, 2));
    expect(failures, failures.join('\n')).toEqual([]);
  });
}

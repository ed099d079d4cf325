import { expect, test } from '@playwright/test';
import { DashboardPage } from './fixtures/dashboard';

// The dashboard over the fixture book of shared::seed::dashboard_fixture, Q4 2026. Every
// expected figure is worked out by hand in shared/src/crm/kpi.rs's tests; here they must show on
// screen. The browser's clock is fixed to 15 January 2027 so "not contacted for 30 days"
// counts back from the end of the quarter whatever day the suite runs.
test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

/** 15 January 2027, noon UTC: Q4 2026 is over, Q1 2027 has only just begun. */
const TODAY = new Date('2027-01-15T12:00:00Z');

test('the dashboard shows the fixture figures for Q4 2026 and drills down to customers', async ({ page }) => {
  await page.clock.setFixedTime(TODAY);
  const dashboard = new DashboardPage(page);
  await dashboard.seedFixture();
  await dashboard.open('period=quarter&from=2026-10-01');
  await expect(page.getByTestId('period-label')).toHaveText('Q4 2026 · compared with Q3 2026');
  await expect(page.getByTestId('dashboard-meta')).toContainText('6 customers');

  await dashboard.expectTile('new-customers', '1');
  // Q3 had none: +1.
  await expect(dashboard.tile('new-customers').getByTestId('kpi-delta')).toHaveText('+1 vs Q3 2026');
  await dashboard.expectTile('nps', '25', '4 answers');
  // Q3: A's single 0 → −100; +125.
  await expect(dashboard.tile('nps').getByTestId('kpi-delta')).toHaveText('+125 vs Q3 2026');
  await dashboard.expectTile('csat', '50%', '2 answers');
  await dashboard.expectTile('ces', '6.0', '1 answer');
  await dashboard.expectTile('churn', '66.7%', '2 of 3 active');
  await dashboard.expectTile('retention', '33.3%', '1 won back');
  // D, a lead, was added on 10 December.
  await dashboard.expectTile('leads-captured', '1', '1 added in all');
  // Lifetime value to the end of Q4, averaged over the buyers: A 70.00, B 50.00, C 10.00
  // (her USD order apart), G 50.00 = 45.00 (Ada's page says 70.00 below).
  await dashboard.expectTile('clv', '45.00 EUR', 'average of 4 buyers to date');
  await dashboard.expectTile('revenue', '80.00 EUR', '3 orders');
  await dashboard.expectTile('first-response', '3 h', 'median · p90 4 h');
  await dashboard.expectTile('resolution', '3.0 days');
  await dashboard.expectTile('pipeline', '120.00 EUR', '2 deals · forecast 32.00 EUR');
  await dashboard.expectTile('not-contacted', '3', 'in 30 days');

  await expect(dashboard.rowValues('funnel')).toHaveText(['0', '1', '4', '0', '0', '1']);
  await expect(page.getByTestId('conversion').locator('strong')).toHaveText(['100%', '50%', '0%', '0%']);
  await expect(dashboard.rowValues('nps-breakdown')).toHaveText(['2', '1', '1']);
  await expect(dashboard.rowValues('churn-breakdown')).toHaveText(['3', '1', '2', '1', '1']);
  await expect(dashboard.rowValues('products-by-revenue')).toHaveText(['50.00 EUR', '30.00 EUR']);
  await expect(dashboard.rowValues('products-by-quantity')).toHaveText(['3 sold', '1 sold']);
  await expect(dashboard.rowValues('pipeline-stages')).toHaveText([
    '20.00 EUR · 2.00 EUR weighted',
    '100.00 EUR · 30.00 EUR weighted',
    '0.00 EUR · 0.00 EUR weighted',
  ]);
  await expect(page.getByTestId('complaints-received')).toHaveText('2');
  await expect(page.getByTestId('complaints-resolution')).toHaveText('median 3.0 days · p90 3.0 days');
  await expect(dashboard.rowValues('activity-kinds')).toHaveText(['1', '1', '1', '0', '0', '1', '2']);
  await expect(page.getByTestId('clv-inputs')).toHaveText(
    // 80.00 / 3 orders × (1.5 × 365.25 / 92) a year × 1024.75 / 365.25 years = 445.54.
    'Projected lifetime value: 445.54 EUR = 26.67 EUR average order × 5.96 purchases a year × 2.81 years',
  );
  await expect(page.getByTestId('revenue-chart').locator('g.column')).toHaveCount(6);
  await expect(page.getByTestId('activities-chart').locator('g.column')).toHaveCount(14);

  // The definition is one tap away.
  const how = page.getByTestId('section-churn').locator('details.how').first();
  await how.locator('summary').click();
  await expect(how).toContainText('bought in the 365 days before the period');

  // Drill down from a tile, and from a chart row.
  await dashboard.tile('churn').click();
  await expect(page.getByTestId('drill-title')).toHaveText('Churned during the period');
  await expect(dashboard.drillNames()).toHaveText(['Bruno Fixture', 'Chloé Fixture']);
  await page.getByTestId('back').click();
  await expect(page.getByTestId('dashboard-body')).toBeVisible();
  await expect(page.getByTestId('period-label')).toHaveText('Q4 2026 · compared with Q3 2026');
  await page.getByTestId('nps-breakdown').getByTestId('hbar-row').first().click();
  await expect(page.getByTestId('drill-title')).toHaveText('Promoters (NPS 9-10)');
  await expect(dashboard.drillNames()).toHaveText(['Ada Fixture', 'Grace Fixture']);
  await dashboard.drillNames().first().click();
  await expect(page.getByTestId('customer-heading')).toHaveText('Ada Fixture');

  // Her own figures on her page.
  await expect(page.getByTestId('figure-lifetime-value')).toHaveText('70.00 EUR · 2 purchases');
  await expect(page.getByTestId('figure-last-contact')).toHaveText('2026-11-02');
  await expect(page.getByTestId('figure-nps')).toContainText('10 · promoter');
  await expect(page.getByTestId('figure-nps-history')).toHaveText(' (0 → 10)');
  await expect(page.getByTestId('figure-open-complaints')).toHaveText('1');
  await expect(page.getByTestId('figure-next-follow-up')).toHaveText('none');
});

test('tapping the dashboard starts the engine reading the facts before the screen asks, and it reads them once', async ({ page }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.seedFixture();
  await page.goto('/menu');
  // A restarted app whose engine has settled (the writer, with the book read): no facts in
  // memory yet, nothing else reading them.
  const engineMarks = async (name: string): Promise<number[]> =>
    (await page.workers()[0]?.evaluate((name) => performance.getEntriesByName(name).map((m) => m.startTime), name)) ?? [];
  await expect.poll(async () => (await engineMarks('fieldbook:writer-ready')).length).toBe(1);
  await page.getByTestId('menu-dashboard').click();
  await expect(page.getByTestId('dashboard-body')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('dashboard-meta')).toContainText('customers');
  const readStarts = await engineMarks('fieldbook:facts-read-start');
  const asks = await engineMarks('fieldbook:dashboard-ask-arrived');
  // Asked for as the route was chosen, before the screen's chunk loaded and asked for its
  // figures; the screen's ask waited for that read instead of reading them again.
  expect(readStarts).toHaveLength(1);
  expect(asks.length).toBeGreaterThanOrEqual(1);
  expect(readStarts[0]).toBeLessThan(asks[0]);
});

test('the period switch, a custom range and an edit update the figures', async ({ page }) => {
  await page.clock.setFixedTime(TODAY);
  const dashboard = new DashboardPage(page);
  await dashboard.seedFixture();
  await dashboard.open();
  // Today is 15 January 2027: this quarter is Q1 2027, with nothing in it.
  await expect(page.getByTestId('period-label')).toHaveText('Q1 2027 · compared with Q4 2026');
  await dashboard.expectTile('nps', '—');
  await dashboard.expectTile('revenue', '0.00 EUR');
  await page.getByTestId('period-year').click();
  await expect(page.getByTestId('period-label')).toHaveText('2027 · compared with 2026');
  await page.getByTestId('period-custom').click();
  await page.getByTestId('period-from').fill('2026-11-01');
  await page.getByTestId('period-to').fill('2026-11-30');
  await expect(page.getByTestId('period-label')).toHaveText('November 2026 · compared with October 2026');
  // November: A's NPS 10 only.
  await dashboard.expectTile('nps', '100');
  await dashboard.expectTile('revenue', '20.00 EUR', '1 order');
  // The query survives a reload.
  await page.reload();
  await expect(page.getByTestId('period-label')).toHaveText('November 2026 · compared with October 2026');
  await dashboard.expectTile('nps', '100');

  // A saved segment narrows every figure: the churned customers only (Chloé: NPS 8 in
  // October, her complaint of 1 November).
  await page.goto('/segments');
  await page.getByTestId('segment-stage').selectOption('churned');
  await page.getByTestId('segment-name').fill('Churned ones');
  await page.getByTestId('segment-save').click();
  await expect(page.getByTestId('segment-message')).toHaveText('Saved "Churned ones".');
  await page.goto('/dashboard?period=quarter&from=2026-10-01');
  await page.getByTestId('dashboard-segment').selectOption({ label: 'Churned ones' });
  await expect(page.getByTestId('dashboard-meta')).toContainText('1 customer ·');
  await dashboard.expectTile('nps', '0', '1 answer');
  await expect(page.getByTestId('complaints-received')).toHaveText('1');
  await dashboard.expectTile('revenue', '10.00 EUR', '1 order');

  // An edit shows at once: Dmitri, a lead, becomes a customer today (Q1 2027).
  await page.getByTestId('period-quarter').click();
  await dashboard.expectTile('new-customers', '0');
  await page.goto('/customers/fixture-d');
  await page.getByTestId('field-stage').selectOption('customer');
  await expect(page.getByTestId('save-status').first()).toContainText('Saved');
  await dashboard.open();
  await dashboard.expectTile('new-customers', '1');
  await dashboard.tile('new-customers').click();
  await expect(dashboard.drillNames()).toHaveText(['Dmitri Fixture']);
});

for (const size of [
  { name: 'phone', width: 390, height: 844 },
  { name: 'tablet', width: 820, height: 1180 },
]) {
  test(`dashboard screenshots at ${size.name} size`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    const dashboard = new DashboardPage(page);
    await dashboard.seedFixture();
    await page.goto(`/sample-data?n=300&seed=4&records=1&auto=1`);
    await expect(page.getByTestId('sample-done')).toBeVisible({ timeout: 60_000 });
    await dashboard.open('period=year&from=2026-06-01');
    // The detail pane scrolls, not the page: one picture per screenful.
    const pane = page.locator('.pane-detail');
    const height = await pane.evaluate((el) => el.scrollHeight);
    for (let part = 0, top = 0; top < height && part < 8; part++, top += size.height - 100) {
      await pane.evaluate((el, y) => el.scrollTo(0, y), top);
      await page.screenshot({ path: `test-results/screenshots/${size.name}-dashboard-${part}.png` });
    }
    await dashboard.tile('not-contacted').click();
    await expect(page.getByTestId('drill-customer').first()).toBeVisible();
    await page.screenshot({ path: `test-results/screenshots/${size.name}-dashboard-drill.png` });
    await page.goto('/customers/fixture-a');
    await expect(page.getByTestId('customer-figures')).toBeVisible();
    await page.screenshot({ path: `test-results/screenshots/${size.name}-customer-figures.png` });
  });
}

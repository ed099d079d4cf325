import { expect, test } from '@playwright/test';
import { CapturePage } from './fixtures/capture_page';
import { DashboardPage } from './fixtures/dashboard';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';

test('leads are captured in one tap each, tagged with the event, and the form is ready for the next', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  const capture = new CapturePage(page);
  await capture.openFromList();
  await capture.field('event').fill('Salon Lyon 2026');
  await capture.capture({ name: 'Hana Ito', company: 'Kyoto Tea', phone: '+81 90 1234 5678', note: 'Wants samples', interest: 'hot' });
  // Empty, and the cursor is back in the first field for the next visitor.
  await expect(capture.field('name')).toBeFocused();
  await expect(capture.field('event')).toHaveValue('Salon Lyon 2026');
  await capture.capture({ name: 'Paul Meyer', email: 'paul@meyer.de' });
  await capture.capture({ company: 'Bistro Nord' });

  // Bad input is explained and nothing is stored.
  await capture.type({ email: 'not an email' });
  await page.getByTestId('capture-save').click();
  await expect(page.getByTestId('capture-name-error').or(page.getByTestId('capture-email-error')).first()).toBeVisible();

  await page.reload();
  await list.open();
  await expect(list.rowNames).toHaveText(['Bistro Nord', 'Hana Ito', 'Paul Meyer']);
  await list.openCustomer('Hana Ito');
  const customer = new CustomerPage(page);
  await expect(page.getByTestId('customer-page')).toContainText('Salon Lyon 2026');
  await expect(page.getByTestId('customer-page')).toContainText('hot lead');
  await expect(customer.field('notes')).toHaveValue(/Salon Lyon 2026: Wants samples/);
});

test('likely duplicates are shown while typing, and adding to the existing customer creates none', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Amélie Novak', company: 'Zenith Wines', phone: '+33 6 12 34 56 78' });
  await list.open();
  const capture = new CapturePage(page);
  await capture.openFromList();

  // A near-duplicate name.
  await capture.type({ name: 'Amelie Novack' });
  await expect(capture.hints).toHaveCount(1);
  await expect(capture.hints.first()).toContainText('Amélie Novak');
  await expect(capture.hints.first()).toContainText('similar name');

  // The same phone written differently, with another name.
  await capture.field('name').fill('A. N.');
  await capture.field('phone').fill('06.12.34.56.78');
  await expect(capture.hints).toHaveCount(1);
  await expect(capture.hints.first()).toContainText('same phone');

  await capture.field('event').fill('Salon Lyon 2026');
  await capture.field('note').fill('Asked for the new vintage');
  await capture.hints.first().getByTestId('add-to-existing').click();
  await expect(capture.saved).toContainText('Amélie Novak (added to existing)');

  await list.open();
  await expect(list.rowNames).toHaveText(['Amélie Novak']);
  await list.openCustomer('Amélie Novak');
  await expect(page.getByTestId('customer-page')).toContainText('Salon Lyon 2026');
  await expect(new CustomerPage(page).field('notes')).toHaveValue(/Asked for the new vintage/);
});

for (const size of [
  { name: 'phone', width: 390, height: 844 },
  { name: 'tablet', width: 820, height: 1180 },
]) {
  test(`"+ Lead" is on every screen and each screen names itself in one h1 (${size.name})`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    const list = new CustomerListPage(page);
    await list.open();
    await list.addCustomer({ name: 'Any One' });
    const customerUrl = page.url();
    const screens: [string, string | null][] = [
      ['/menu', 'Menu'],
      ['/follow-ups', 'Follow-ups'],
      ['/products', 'Products'],
      ['/pipeline', 'Pipeline'],
      ['/segments', 'Segments'],
      ['/dashboard', 'Dashboard'],
      ['/settings', 'Settings'],
      ['/import', 'Import'],
      ['/duplicates', 'Duplicates'],
      ['/account', 'Account'],
      [new URL(customerUrl).pathname, null],
    ];
    for (const [path, title] of screens) {
      await page.goto(path);
      await expect(page.locator('.detail-topbar')).toHaveCount(1);
      // Exactly one visible "+ Lead" (the list's on a tablet, where the list shows beside).
      const lead = page.locator('[data-testid=quick-capture]:visible');
      await expect(lead, path).toHaveCount(1);
      await expect(page.getByRole('main')).toHaveCount(1);
      if (title) await expect(page.getByRole('heading', { level: 1, name: title }), path).toBeVisible();
    }
    // From any of them, it opens quick capture.
    await page.goto('/pipeline');
    await page.locator('[data-testid=quick-capture]:visible').click();
    await expect(page).toHaveURL(/\/capture$/);
  });
}

test('after the show the dashboard counts the leads captured, by event and interest', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  const capture = new CapturePage(page);
  await capture.openFromList();
  await capture.field('event').fill('Salon Lyon 2026');
  await capture.capture({ name: 'Hana Ito', company: 'Kyoto Tea', interest: 'hot' });
  await capture.capture({ name: 'Paul Meyer', email: 'paul@meyer.de' });
  await capture.capture({ company: 'Bistro Nord' });
  await capture.field('event').fill('Expo Wien');
  await capture.capture({ name: 'Anna Wien', phone: '0664 2003001' });

  const dashboard = new DashboardPage(page);
  await dashboard.open();
  // Four leads this quarter, none converted yet: "New customers" counts conversions.
  await dashboard.expectTile('leads-captured', '4', '4 added in all');
  await dashboard.expectTile('new-customers', '0');
  await expect(page.getByTestId('leads-summary')).toHaveText('4 leads · 4 added in all');
  await expect(page.getByTestId('leads-by-tag').getByTestId('hbar-row')).toHaveText([
    /Salon Lyon 2026\s*3/,
    /Expo Wien\s*1/,
    /hot lead\s*1/,
  ]);
  await page.getByTestId('leads-by-tag').getByTestId('hbar-row').first().click();
  await expect(page.getByTestId('drill-title')).toHaveText('Leads captured during the period, tagged Salon Lyon 2026');
  await expect(page.getByTestId('drill-count')).toContainText('3 customers');
  await expect(dashboard.drillNames()).toHaveCount(3);
  expect((await dashboard.drillNames().allTextContents()).sort()).toEqual(['Bistro Nord', 'Hana Ito', 'Paul Meyer']);
  // The definition is one tap away.
  await page.getByTestId('back').click();
  const how = page.getByTestId('section-leads').locator('details.how');
  await how.locator('summary').click();
  await expect(how).toContainText('added during the period');
});

test('a lead with a name, a company and an email is saved in two taps plus typing', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  // Every tap or click the rep makes, counted by the page.
  await page.evaluate(() => {
    (window as unknown as { taps: number }).taps = 0;
    addEventListener('pointerdown', () => (window as unknown as { taps: number }).taps++, true);
  });
  const taps = () => page.evaluate(() => (window as unknown as { taps: number }).taps);
  const capture = new CapturePage(page);
  await capture.openFromList(); // tap 1: "+ Lead"
  // The name field has the keyboard at once; the keyboard's "next" key moves from field to
  // field (Tab here), which is typing, not a tap.
  await expect(capture.field('name')).toBeFocused();
  for (const field of ['name', 'company', 'email'] as const) {
    await expect(capture.field(field)).toHaveAttribute('enterkeyhint', 'next');
  }
  await page.keyboard.type('Hana Ito');
  await page.keyboard.press('Tab');
  await expect(capture.field('company')).toBeFocused();
  await page.keyboard.type('Kyoto Tea');
  await page.keyboard.press('Tab');
  await expect(capture.field('email')).toBeFocused();
  await page.keyboard.type('hana@kyoto-tea.example');
  await page.getByTestId('capture-save').click(); // tap 2: "Save lead"
  await expect(capture.saved).toContainText('Hana Ito');
  expect(await taps()).toBe(2);
  await list.open();
  await list.openCustomer('Hana Ito');
  await expect(new CustomerPage(page).field('company')).toHaveValue('Kyoto Tea');
  await expect(page.getByTestId('email')).toHaveAttribute('href', 'mailto:hana@kyoto-tea.example');
});

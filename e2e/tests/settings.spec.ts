import { expect, test } from '@playwright/test';
import { CapturePage } from './fixtures/capture_page';
import { CustomerListPage } from './fixtures/customer_list_page';

test('settings set the event of quick leads and show whether storage is persistent and how much is used', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await page.getByTestId('open-menu').click();
  await page.getByTestId('open-settings').click();
  await expect(page.getByTestId('settings-page')).toBeVisible();
  await page.getByTestId('settings-event').fill('Expo Bordeaux');
  await page.getByTestId('settings-event').blur();
  // A definite answer about persistence, and real numbers for usage and quota.
  await expect(page.getByTestId('storage-persisted')).toHaveAttribute('data-persisted', /^(yes|no)$/);
  await expect(page.getByTestId('storage-usage')).toHaveText(/^Using [\d.]+ [KMG]B of [\d.]+ [KMG]B available\.$/);

  await list.open();
  const capture = new CapturePage(page);
  await capture.openFromList();
  await expect(capture.field('event')).toHaveValue('Expo Bordeaux');
});

test('a default country for phone numbers makes Call dial national numbers from anywhere', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Anna Wien', phone: '0664 2003001' });
  // No country yet: dialled as written.
  await expect(page.getByTestId('call')).toHaveAttribute('href', 'tel:06642003001');
  await page.goto('/settings');
  await page.getByTestId('settings-country').selectOption('AT');
  await expect(page.getByTestId('settings-country-message')).toHaveText(
    'Numbers without a country code are read as Austria (+43): Call dials them from anywhere.',
  );
  // The setting is the book's: it survives a reload (and syncs like the catalog).
  await page.reload();
  await expect(page.getByTestId('settings-country')).toHaveValue('AT');
  await list.open();
  await list.openCustomer('Anna Wien');
  await expect(page.getByTestId('call')).toHaveAttribute('href', 'tel:+436642003001');
  // Searching the international form finds the national one.
  await list.open();
  await list.searchFor('+43 664 200 3001');
  await expect(list.rowNames).toHaveText(['Anna Wien']);
});

const iPhoneSafari =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';

test('on iPhone Safari a dismissible nudge explains why to add the app to the home screen', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, userAgent: iPhoneSafari, viewport: { width: 390, height: 844 }, hasTouch: true });
  const page = await context.newPage();
  const list = new CustomerListPage(page);
  await list.open();
  const nudge = page.getByTestId('install-nudge');
  await expect(nudge).toContainText('Add Fieldbook to your Home Screen');
  await expect(nudge).toContainText('7 days');
  await page.screenshot({ path: 'test-results/screenshots/phone-ios-install-nudge.png' });
  await page.getByTestId('dismiss-install-nudge').click();
  await expect(nudge).toHaveCount(0);
  await page.reload();
  await list.waitReady();
  await expect(nudge).toHaveCount(0);
  await context.close();
});

test('other browsers get no install nudge', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await expect(page.getByTestId('install-nudge')).toHaveCount(0);
});

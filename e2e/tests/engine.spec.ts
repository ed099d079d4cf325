import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';

// The screens and their engine worker exchange postcard bytes, which carry no types: a page
// and an engine of two builds (a deploy between the two downloads) must refuse each other's
// messages and say so, never misread them (shared::sync::engine_protocol::WIRE_FINGERPRINT).

test('an engine of another build is refused with a clear message, nothing is written', async ({ page }) => {
  // An engine "of another build": its messages start with another fingerprint.
  await page.route('**/fieldbook-engine_loader.js', (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      body: 'postMessage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 0, 1]));',
    }),
  );
  await page.goto('/');
  await expect(page.getByTestId('storage-unavailable')).toBeVisible();
  await expect(page.getByTestId('storage-unavailable-reason')).toHaveText(
    'Fieldbook was updated while this page was loading. Reload to continue; everything saved on this device is kept.',
  );

  // With the real engine again, a reload works.
  await page.unroute('**/fieldbook-engine_loader.js');
  await page.reload();
  await expect(page.getByTestId('customer-list')).toHaveAttribute('data-ready', 'true');
});

test('a first visit and a return run without an error in the page or its engine worker', async ({ page }) => {
  // A first visit has no stored snapshot: reading that used to leave an IndexedDB request to
  // a freed closure, which threw in the engine worker ("closure invoked … after being dropped").
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  const list = new CustomerListPage(page);
  await list.open();
  await expect(list.emptyBook).toBeVisible();
  await list.addCustomer({ name: 'First Visit Fay', company: 'Clean Start' });
  await page.waitForTimeout(500);
  await page.reload();
  await expect(page.getByTestId('customer-page')).toBeVisible();
  await page.waitForTimeout(500);
  expect(errors).toEqual([]);
});

import { chromium, expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromiumArgs } from '../playwright.config';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';

test('customers survive closing the browser and opening it again', async ({ baseURL }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-profile-'));
  const launch = () =>
    chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: chromiumArgs,
      baseURL,
      viewport: { width: 390, height: 844 },
    });
  try {
    let context = await launch();
    let page = context.pages()[0] ?? (await context.newPage());
    let list = new CustomerListPage(page);
    await list.open();
    await list.addCustomer({ name: 'Persistent Paula', company: 'Durable Goods' });
    const customer = new CustomerPage(page);
    await customer.setField('job_title', 'Buyer');
    await customer.expectSaved();
    await context.close();

    context = await launch();
    page = context.pages()[0] ?? (await context.newPage());
    list = new CustomerListPage(page);
    await list.open();
    expect(await list.names()).toEqual(['Persistent Paula']);
    await list.openCustomer('Persistent Paula');
    await expect(new CustomerPage(page).field('job_title')).toHaveValue('Buyer');
    await context.close();
  } finally {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  }
});

test('an unreadable stored record is skipped and the rest of the book still shows', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomers([{ name: 'First Kept' }, { name: 'Second Kept' }]);
  // Damage the device database behind the app's back: garbage and a non-string value.
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open('fieldbook');
        request.onsuccess = () => {
          const transaction = request.result.transaction('summaries', 'readwrite');
          transaction.objectStore('summaries').put('{"id": "broken", "name": 42', 'broken');
          transaction.objectStore('summaries').put(12345, 'not-text');
          transaction.oncomplete = () => {
            request.result.close();
            resolve();
          };
          transaction.onerror = () => reject(transaction.error);
        };
        request.onerror = () => reject(request.error);
      }),
  );
  await list.open();
  expect(await list.names()).toEqual(['First Kept', 'Second Kept']);
});

test('a tab steps aside when another tab upgrades the device database', async ({ page, context }) => {
  const list = new CustomerListPage(page);
  await list.open();
  // A second tab opens the database at a newer version, as a new deployment would.
  const other = await context.newPage();
  await other.goto('/healthz');
  const upgraded = await other.evaluate(
    () =>
      new Promise<string>((resolve) => {
        // Far above the app's own version (client/src/store.rs DB_VERSION).
        const request = indexedDB.open('fieldbook', 99);
        request.onsuccess = () => {
          request.result.close();
          resolve('upgraded');
        };
        request.onblocked = () => resolve('blocked');
        request.onerror = () => resolve(`error ${request.error?.name}`);
      }),
  );
  // The first tab closed its connection instead of blocking the upgrade…
  expect(upgraded).toBe('upgraded');
  // …and tells the rep what to do.
  await expect(page.getByTestId('storage-unavailable-reason')).toContainText('updated in another tab');
  // This (older) build then explains it cannot open the newer data instead of hanging.
  await page.reload();
  await expect(page.getByTestId('storage-unavailable-reason')).toContainText('newer version of Fieldbook');
});

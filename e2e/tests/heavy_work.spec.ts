import { expect, test, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AccountPage } from './fixtures/account_page';
import { CustomerListPage } from './fixtures/customer_list_page';
import { uniqueEmail } from './fixtures/devices';

// The heavy work — building 10,000 documents of an import, merging 10,000 downloaded
// customers on a new device — runs in the engine worker (client/engine), so the screens stay
// usable meanwhile: the rep searches and opens a customer while it runs.

test.use({ viewport: { width: 820, height: 1180 } });
test.setTimeout(240_000);

const N = 10_000;

/** A HubSpot export of `n` distinct contacts. */
function hubspotExport(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-heavy-'));
  const file = path.join(dir, 'hubspot-contacts.csv');
  const lines = ['Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,City,Lifecycle Stage'];
  for (let i = 1; i <= n; i++) {
    lines.push(`${i},Imported${i},Contact,contact${i}@import.example,+43 664 ${String(1000000 + i)},Firm ${i % 700},Buyer,Graz,lead`);
  }
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

/** Searches for `name` and opens it, timing the search from typing to the row shown. */
async function searchAndOpen(page: Page, name: string): Promise<number> {
  const list = new CustomerListPage(page);
  const started = Date.now();
  await list.searchFor(name);
  await expect(list.rowNames.filter({ hasText: name }).first()).toBeVisible();
  const searchMs = Date.now() - started;
  await list.openCustomer(name);
  return searchMs;
}

test(`while ${N} rows import, the rep searches and opens a customer`, async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Nadia Needle', company: 'Haystack GmbH' });
  await page.goto('/menu');
  await page.getByTestId('menu-import').click();
  await page.getByTestId('import-file').setInputFiles(hubspotExport(N));
  await expect(page.getByTestId('import-layout')).toHaveText('Recognised as: HubSpot');
  await page.getByTestId('import-run').click();
  // The documents are being written: the progress shows fewer than all.
  await expect(page.getByTestId('import-progress')).toBeVisible();

  const searchMs = await searchAndOpen(page, 'Nadia Needle');
  // The import was still running when the customer opened: the screens did not wait for it.
  // "1 of <customers stored so far> customers".
  const stored = Number((await list.resultCount.textContent())?.match(/of (\d+)/)?.[1] ?? 'NaN');
  expect(stored, `search took ${searchMs} ms`).toBeLessThan(N + 1);
  expect(searchMs).toBeLessThan(2_000);
  await expect(page.getByTestId('customer-heading')).toHaveText('Nadia Needle');

  // Every row lands in the book although the rep left the import screen.
  await list.searchFor('');
  await expect(list.resultCount).toHaveText(`${N + 1} customers`, { timeout: 120_000 });
  await page.reload();
  await list.waitReady();
  await expect(list.resultCount).toHaveText(`${N + 1} customers`);
});

test(`while a new device downloads ${N} customers, the rep searches and opens one`, async ({ browser, baseURL }) => {
  const email = uniqueEmail('heavy');
  const phoneContext = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 } });
  const phone = await phoneContext.newPage();
  const phoneAccount = new AccountPage(phone);
  await phoneAccount.signIn(email, 'Phone');
  await phone.goto(`/sample-data?n=${N}&seed=5&auto=1`);
  await expect(phone.getByTestId('sample-done')).toBeVisible({ timeout: 120_000 });
  await phoneAccount.open();
  await phoneAccount.expectBackedUp(120_000);
  await phoneContext.close();

  const tabletContext = await browser.newContext({ baseURL, viewport: { width: 820, height: 1180 } });
  const tablet = await tabletContext.newPage();
  // A trade-show connection (8 Mbit/s): on loopback the whole download takes ~2 s, too short
  // to search and open a customer while it runs.
  const cdp = await tabletContext.newCDPSession(tablet);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 20,
    downloadThroughput: 1_000_000,
    uploadThroughput: 1_000_000,
  });
  const tabletAccount = new AccountPage(tablet);
  await tabletAccount.signIn(email, 'Tablet', true);
  const list = new CustomerListPage(tablet);
  // As soon as the first customers are stored, search and open one while the rest arrive.
  await expect(list.rows.first()).toBeVisible({ timeout: 60_000 });
  await expect(tabletAccount.syncStatus).toHaveAttribute('data-phase', 'syncing');
  // A customer already stored on the tablet (the download's order is the relay's).
  const name = (await list.rowNames.first().textContent()) ?? '';
  const searchMs = await searchAndOpen(tablet, name);
  expect(searchMs).toBeLessThan(2_000);
  const phaseWhenOpened = await tabletAccount.syncStatus.getAttribute('data-phase');
  expect(phaseWhenOpened, 'the download was still running when the customer opened').toBe('syncing');

  await tabletAccount.expectBackedUp(120_000);
  // Every customer arrived (the list hides the few the generator archives).
  await tabletAccount.open();
  await expect(tablet.getByTestId('stored-count')).toContainText(`${N} customers on this device`);
  await tabletContext.close();
});

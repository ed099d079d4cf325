import { expect, test } from '@playwright/test';
import { AccountPage } from './fixtures/account_page';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { goOffline, openDevice, phoneSize, twoDevices, uniqueEmail } from './fixtures/devices';
import { engineTotal } from './fixtures/engine_timings';

test('a customer created on one device appears on the other without a reload', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await tablet.list.open();
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Live Lucia', company: 'Instant Co' });
  await new AccountPage(phone.page).expectBackedUp();
  await expect(tablet.list.rowNames.filter({ hasText: 'Live Lucia' })).toBeVisible({ timeout: 10_000 });
  // An edit travels too, into the open customer page.
  await tablet.list.openCustomer('Live Lucia');
  const onPhone = new CustomerPage(phone.page);
  await onPhone.setField('job_title', 'Head buyer');
  await onPhone.expectSaved();
  await expect(new CustomerPage(tablet.page).field('job_title')).toHaveValue('Head buyer', { timeout: 10_000 });
  await phone.context.close();
  await tablet.context.close();
});

test('offline edits of different fields and new customers on both devices converge', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Shared Sam', company: 'Both Ltd' });
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await expect(tablet.list.rowNames.filter({ hasText: 'Shared Sam' })).toBeVisible({ timeout: 10_000 });

  await goOffline(phone);
  await goOffline(tablet);
  // The phone is still on Shared Sam's page since creating it.
  await new CustomerPage(phone.page).setField('job_title', 'Buyer');
  await tablet.list.openCustomer('Shared Sam');
  await new CustomerPage(tablet.page).setField('company', 'Both Ltd (Lyon)');
  await phone.page.getByTestId('customer-page').getByTestId('back').click();
  await phone.list.addCustomer({ name: 'Phone Only Paul', company: 'P' });
  await tablet.page.getByTestId('customer-page').getByTestId('back').click();
  await tablet.list.addCustomer({ name: 'Tablet Only Tina', company: 'T' });
  // Offline, the indicator says how many changes wait.
  await expect(phone.page.getByTestId('sync-status')).toContainText('not backed up');

  await phone.context.setOffline(false);
  await tablet.context.setOffline(false);
  await phone.account.expectBackedUp();
  await tablet.account.expectBackedUp();
  for (const device of [phone, tablet]) {
    await device.page.getByTestId('customer-page').getByTestId('back').click();
    await expect(device.list.rowNames).toHaveText(['Phone Only Paul', 'Shared Sam', 'Tablet Only Tina'], { timeout: 10_000 });
    await device.list.openCustomer('Shared Sam');
    const customer = new CustomerPage(device.page);
    await expect(customer.field('job_title')).toHaveValue('Buyer');
    await expect(customer.field('company')).toHaveValue('Both Ltd (Lyon)');
    await expect(device.page.getByTestId('conflicts')).toHaveCount(0);
  }
  await phone.context.close();
  await tablet.context.close();
});

test('a change from another device is listed from the projection it came with, then reads and edits the same', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Quick Quinn', company: 'Quarry Ltd' });
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await expect(tablet.list.rowNames.filter({ hasText: 'Quick Quinn' })).toBeVisible({ timeout: 10_000 });
  // A fresh engine on the tablet (its documents no longer in memory), offline meanwhile.
  await goOffline(tablet);
  await tablet.page.reload();
  await expect(tablet.list.rowNames.filter({ hasText: 'Quick Quinn' })).toBeVisible();
  const customer = new CustomerPage(phone.page);
  await customer.setField('company', 'Quarry Ltd (Nantes)');
  await customer.expectSaved();
  await customer.setField('job_title', 'Site manager');
  await customer.expectSaved();
  await phone.account.expectBackedUp();

  await tablet.context.setOffline(false);
  await expect(tablet.list.rows.filter({ hasText: 'Quarry Ltd (Nantes)' })).toBeVisible({ timeout: 10_000 });
  // Listed from the phone's projection: the document was not loaded to list it.
  expect(await engineTotal(tablet.page, "apply: documents listed from their changes' projection")).toBe(1);
  // Closed at once and opened again: the new engine finds the unverified changes and reads
  // them back (checked as they load, the document compacted into one snapshot): what was
  // listed is what the document says.
  await tablet.page.reload();
  await expect
    .poll(() => engineTotal(tablet.page, 'verify: read back customers listed from projections'), { timeout: 10_000 })
    .toBeGreaterThan(0);
  expect(await engineTotal(tablet.page, 'verify: customers listed again from their document')).toBe(0);
  // Opened, the document says the same.
  await tablet.list.openCustomer('Quick Quinn');
  const onTablet = new CustomerPage(tablet.page);
  await expect(onTablet.field('company')).toHaveValue('Quarry Ltd (Nantes)');
  await expect(onTablet.field('job_title')).toHaveValue('Site manager');
  // Edited on the tablet, and reopened after a restart: every change is there.
  await onTablet.setField('notes', 'Met at the quarry gate');
  await onTablet.expectSaved();
  await tablet.account.expectBackedUp();
  await tablet.page.reload();
  await tablet.list.open();
  await tablet.list.openCustomer('Quick Quinn');
  await expect(onTablet.field('company')).toHaveValue('Quarry Ltd (Nantes)');
  await expect(onTablet.field('job_title')).toHaveValue('Site manager');
  await expect(onTablet.field('notes')).toHaveValue('Met at the quarry gate');
  await expect(new CustomerPage(phone.page).field('notes')).toHaveValue('Met at the quarry gate', { timeout: 10_000 });
  await phone.context.close();
  await tablet.context.close();
});

test('the same field edited on both devices offline is shown as a conflict and resolved', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Conflicted Carl', company: 'Fork Inc' });
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await tablet.list.openCustomer('Conflicted Carl');
  await goOffline(phone);
  await goOffline(tablet);
  await new CustomerPage(phone.page).setField('company', 'Fork Inc (phone)');
  await new CustomerPage(tablet.page).setField('company', 'Fork Inc (tablet)');
  await phone.context.setOffline(false);
  await tablet.context.setOffline(false);
  await phone.account.expectBackedUp();
  await tablet.account.expectBackedUp();

  for (const device of [phone, tablet]) {
    const conflict = device.page.getByTestId('conflict').filter({ hasText: 'Company' });
    await expect(conflict).toBeVisible({ timeout: 10_000 });
    await expect(conflict.getByTestId('conflict-text')).toHaveCount(2);
    const texts = (await conflict.getByTestId('conflict-text').allTextContents()).sort();
    expect(texts).toEqual(['Fork Inc (phone)', 'Fork Inc (tablet)']);
    await expect(conflict).toContainText('Phone');
    await expect(conflict).toContainText('Tablet');
  }
  // The rep keeps the value that was not kept, on the tablet; both devices end with it.
  const loser = tablet.page.locator('[data-testid="conflict-value"][data-kept="false"]');
  const chosen = (await loser.first().getByTestId('conflict-text').textContent())!;
  await loser.first().getByTestId('keep').click();
  await expect(tablet.page.getByTestId('conflicts')).toHaveCount(0);
  await expect(new CustomerPage(tablet.page).field('company')).toHaveValue(chosen);
  await tablet.account.expectBackedUp();
  await expect(phone.page.getByTestId('conflicts')).toHaveCount(0, { timeout: 10_000 });
  await expect(new CustomerPage(phone.page).field('company')).toHaveValue(chosen);
  await phone.context.close();
  await tablet.context.close();
});

test('another account sees none of the first one\'s customers', async ({ browser, baseURL }) => {
  const { phone } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Private Petra', company: 'Secret SA' });
  await phone.account.expectBackedUp();
  const context = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const stranger = new AccountPage(page);
  await stranger.signIn(`stranger-${Date.now()}@example.com`, 'Laptop');
  await stranger.expectBackedUp();
  const list = new CustomerListPage(page);
  await list.open();
  await expect(list.emptyBook).toBeVisible();
  await phone.context.close();
  await context.close();
});

test('revoking a device from another signs it out and removes its copy', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Stolen Stan', company: 'Lost Phone' });
  await phone.account.expectBackedUp();
  await phone.list.open();
  await expect(phone.list.rowNames).toHaveText(['Stolen Stan']);
  await tablet.account.open();
  await expect(tablet.account.devices).toHaveCount(2);
  await tablet.account.revoke('Phone');
  // The phone's socket is closed at once; it forgets the account and the book.
  await expect(phone.list.emptyBook).toBeVisible({ timeout: 10_000 });
  await phone.page.getByTestId('sync-status').click();
  await expect(phone.account.notice).toContainText('signed out from another device', { timeout: 10_000 });
  await expect(phone.page.getByTestId('sign-in-form')).toBeVisible();
  await expect(phone.page.getByTestId('sync-status')).toHaveAttribute('data-phase', 'local');
  // Reopened later, the phone still says why it was signed out.
  await phone.page.reload();
  await expect(phone.account.notice).toContainText('signed out from another device');
  await expect(phone.page.getByTestId('sign-in-form')).toBeVisible();
  await phone.context.close();
  await tablet.context.close();
});

test('a new device downloading a large book shows its progress, then holds every customer', async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const email = uniqueEmail();
  const phone = await openDevice(browser, baseURL, email, 'Phone', false);
  await phone.list.addSampleCustomers(1500, 7);
  // Some sample customers are archived; the list counts the active ones.
  await phone.list.open();
  const onPhone = (await phone.list.resultCount.textContent())!;
  expect(onPhone).toMatch(/^1[34]\d\d customers$/);
  await phone.account.open();
  await phone.account.expectBackedUp(60_000);

  // The tablet records every text its sync indicator shows, from the first frame on.
  const context = await browser.newContext({ baseURL, viewport: phoneSize, hasTouch: true });
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { syncTexts: string[] }).syncTexts = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="sync-status"]')?.textContent ?? '';
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const page = await context.newPage();
  const tablet = new AccountPage(page);
  await tablet.signIn(email, 'Tablet', true);
  await tablet.expectBackedUp(60_000);
  const texts: string[] = await page.evaluate(() => (window as unknown as { syncTexts: string[] }).syncTexts);
  const progress = texts
    .map((text) => /Downloading your book · (\d+) of (\d+)/.exec(text))
    .filter((match) => match !== null)
    .map((match) => [Number(match![1]), Number(match![2])]);
  // At least one intermediate step was shown, counting towards the whole book.
  expect(progress.length, texts.join(' | ')).toBeGreaterThan(0);
  expect(progress.every(([, total]) => total === 1500), texts.join(' | ')).toBe(true);
  expect(progress.some(([done]) => done > 0 && done < 1500), texts.join(' | ')).toBe(true);

  const list = new CustomerListPage(page);
  await list.open();
  await expect(list.resultCount).toHaveText(onPhone);
  await phone.context.close();
  await context.close();
});

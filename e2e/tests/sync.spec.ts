import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { AccountPage } from './fixtures/account_page';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';

/** Two devices of one rep: two browser contexts (separate storage), both signed in. */
async function twoDevices(browser: Browser, baseURL: string | undefined) {
  const email = `rep-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const open = async (name: string, existing: boolean) => {
    const context = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 }, hasTouch: true });
    const page = await context.newPage();
    const account = new AccountPage(page);
    await account.signIn(email, name, existing);
    await account.expectBackedUp();
    return { context, page, account, list: new CustomerListPage(page) };
  };
  const phone = await open('Phone', false);
  const tablet = await open('Tablet', true);
  return { email, phone, tablet };
}

async function goOffline(context: BrowserContext, page: Page) {
  await context.setOffline(true);
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-phase', 'offline');
}

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

  await goOffline(phone.context, phone.page);
  await goOffline(tablet.context, tablet.page);
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

test('the same field edited on both devices offline is shown as a conflict and resolved', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Conflicted Carl', company: 'Fork Inc' });
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await tablet.list.openCustomer('Conflicted Carl');
  await goOffline(phone.context, phone.page);
  await goOffline(tablet.context, tablet.page);
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
  await phone.context.close();
  await tablet.context.close();
});

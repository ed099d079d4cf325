import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CustomerPage } from './fixtures/customer_page';
import { goOffline, tabletSize, twoDevices } from './fixtures/devices';
import { ErasePage, SetAsideNotice, relayStores } from './fixtures/erase_page';
import { HistoryPage } from './fixtures/history_page';

test('erasing a history keeps the customer as now on every device, leaves no earlier value at the relay, and sets aside another device\'s unsent edit', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  const secret = `Secret Old Co ${Date.now()}`;
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Erika Erase', company: secret });
  const onPhone = new CustomerPage(phone.page);
  await onPhone.setField('company', 'Now Co');
  await onPhone.expectSaved();
  await phone.account.expectBackedUp();
  expect(relayStores(secret), 'the relay holds the old value before the erasure').toBe(true);

  // The tablet has her open and edits offline: a change the relay never gets.
  await tablet.list.open();
  await tablet.list.openCustomer('Erika Erase');
  await goOffline(tablet);
  const onTablet = new CustomerPage(tablet.page);
  await onTablet.setField('job_title', 'Offline buyer');
  await onTablet.expectSaved();

  // The phone erases the history, keeping her as she is now.
  const history = new HistoryPage(phone.page);
  await history.openFromCustomer();
  await expect(history.entry('Phone', `Company: ${secret} → Now Co`)).toHaveCount(1);
  const erase = new ErasePage(phone.page);
  await erase.openFromHistory();
  await expect(phone.page.getByTestId('erase-customer')).toHaveText('Erika Erase');
  await expect(erase.keep).toBeChecked();
  await phone.page.screenshot({ path: 'test-results/erase-phone.png', fullPage: true });
  await erase.erase(true);
  await expect(phone.page).toHaveURL(/\/customers\/[0-9a-f-]+$/);
  await expect(onPhone.field('company')).toHaveValue('Now Co');
  await history.openFromCustomer();
  await expect(history.entries).toHaveCount(1);
  await expect(history.entry('Phone', /Added as /)).toHaveCount(1);
  await expect(phone.page.getByTestId('history')).not.toContainText(secret);
  await phone.account.expectBackedUp();
  await phone.list.open();
  await phone.list.searchFor('Erika');
  await expect(phone.list.rowNames).toHaveText(['Erika Erase']);
  await expect.poll(() => relayStores(secret), { message: 'the relay still stores the erased value' }).toBe(false);

  // The tablet comes back: its copy of the old customer is gone, its unsent edit kept aside.
  await tablet.context.setOffline(false);
  await tablet.account.expectBackedUp();
  await expect(tablet.page.getByText('This customer is no longer on this device')).toBeVisible();
  await tablet.list.open();
  const notice = new SetAsideNotice(tablet.page);
  await expect(notice.notices).toHaveCount(1);
  await expect(notice.notices).toContainText('“Erika Erase” was erased on another device');
  await expect(notice.notices).toContainText('1 change to them that was not sent');
  await tablet.page.screenshot({ path: 'test-results/erase-set-aside-phone.png', fullPage: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-erase-'));
  const csv = await notice.download('Erika Erase', dir);
  expect(csv).toContain('Offline buyer');
  await expect(notice.notices).toHaveCount(0);
  await expect(tablet.page.getByTestId('set-aside-done')).toContainText('Downloaded “Erika Erase”');
  // The customer as kept, without the tablet's edit and without her history.
  await tablet.list.searchFor('Erika');
  await expect(tablet.list.rowNames).toHaveText(['Erika Erase']);
  await tablet.list.openCustomer('Erika Erase');
  await expect(onTablet.field('company')).toHaveValue('Now Co');
  await expect(onTablet.field('job_title')).toHaveValue('');
  const tabletHistory = new HistoryPage(tablet.page);
  await tabletHistory.openFromCustomer();
  await expect(tabletHistory.entries).toHaveCount(1);
  // Nothing is set aside any more, also after a reload.
  await tablet.list.open();
  await expect(notice.notices).toHaveCount(0);
  await phone.context.close();
  await tablet.context.close();
});

test('a customer erased completely leaves the list on both devices and stays gone after a reload', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomers([{ name: 'Gone Gustav' }, { name: 'Staying Stella' }]);
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await expect(tablet.list.rowNames).toHaveText(['Gone Gustav', 'Staying Stella']);

  await phone.list.openCustomer('Gone Gustav');
  const history = new HistoryPage(phone.page);
  await history.openFromCustomer();
  const erase = new ErasePage(phone.page);
  await erase.openFromHistory();
  await phone.page.setViewportSize(tabletSize);
  await expect(phone.page.getByTestId('erase-customer')).toHaveText('Gone Gustav');
  await phone.page.screenshot({ path: 'test-results/erase-tablet.png', fullPage: true });
  await erase.erase(false);
  await expect(phone.page).toHaveURL(/\/$/);
  await expect(phone.list.rowNames).toHaveText(['Staying Stella']);
  await phone.account.expectBackedUp();
  await expect(tablet.list.rowNames).toHaveText(['Staying Stella'], { timeout: 15_000 });
  for (const device of [phone, tablet]) {
    await device.page.reload();
    await device.list.waitReady();
    await expect(device.list.rowNames).toHaveText(['Staying Stella']);
  }
  await phone.context.close();
  await tablet.context.close();
});

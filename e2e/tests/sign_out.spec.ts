import { expect, test } from '@playwright/test';
import { CustomerPage } from './fixtures/customer_page';
import { goOffline, twoDevices } from './fixtures/devices';
import { HeldBookBanner } from './fixtures/held_book';

// Nothing unsent is ever wiped without telling the rep and offering an export.

test('a device revoked while it holds unsent changes keeps them, says how many and offers the export first', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Backed Up Bea', company: 'Safe Co' });
  await phone.account.expectBackedUp();

  // Three changes the relay never sees: a new customer and two edits.
  await goOffline(phone);
  await phone.page.getByTestId('customer-page').getByTestId('back').click();
  await phone.list.addCustomer({ name: 'Offline Olaf', company: 'Basement GmbH' });
  const customer = new CustomerPage(phone.page);
  await customer.setField('job_title', 'Buyer');
  await customer.expectSaved();
  await customer.setField('company', 'Basement AG');
  await customer.expectSaved();

  await tablet.account.open();
  await tablet.account.revoke('Phone');
  await phone.context.setOffline(false);

  const held = new HeldBookBanner(phone.page);
  await held.expectHolding(3);
  await expect(held.banner).toContainText('signed out from another device');
  // The book is still there and usable.
  await phone.list.open();
  await expect(phone.list.rowNames).toHaveText(['Backed Up Bea', 'Offline Olaf']);
  // A reload still says so.
  await phone.page.reload();
  await held.expectHolding(3);

  const file = await held.export();
  expect(file.format).toBe('fieldbook-unsynced-changes');
  expect(file.changes).toHaveLength(3);
  await held.remove();
  await phone.list.open();
  await expect(phone.list.emptyBook).toBeVisible();
  await phone.page.reload();
  await expect(held.banner).toBeHidden();
  await phone.context.close();
  await tablet.context.close();
});

test('signing out with unsent changes holds them; signing in again to the account sends them', async ({ browser, baseURL }) => {
  const { email, phone, tablet } = await twoDevices(browser, baseURL);
  await goOffline(phone);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Unsent Ulla', company: 'Pending Ltd' });
  await phone.account.open();
  phone.page.once('dialog', (dialog) => dialog.accept());
  await phone.page.getByTestId('sign-out').click();

  const held = new HeldBookBanner(phone.page);
  await held.expectHolding(1);
  await expect(phone.page.getByTestId('sign-in-form')).toBeVisible();
  // Another account may not receive them.
  await phone.page.getByTestId('toggle-mode').click();
  await phone.context.setOffline(false);
  await phone.page.getByTestId('email').fill(`other-${Date.now()}@example.com`);
  await phone.page.getByTestId('password').fill('correct horse battery');
  await phone.page.getByTestId('device-name').fill('Phone');
  await phone.page.getByTestId('submit').click();
  await expect(phone.page.getByTestId('sign-in-error')).toContainText('never backed up');
  await held.expectHolding(1);

  // The same account: they are sent, and reach the tablet.
  await phone.account.signIn(email, 'Phone again', true);
  await phone.account.expectBackedUp();
  await expect(held.banner).toBeHidden();
  await tablet.list.open();
  await expect(tablet.list.rowNames.filter({ hasText: 'Unsent Ulla' })).toBeVisible({ timeout: 10_000 });
  await phone.context.close();
  await tablet.context.close();
});

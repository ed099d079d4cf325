import { expect, test } from '@playwright/test';
import { CustomerPage } from './fixtures/customer_page';
import { goOffline, openDevice, phoneSize, tabletSize, uniqueEmail } from './fixtures/devices';
import { Relays } from './fixtures/relays';

// Two relay processes behind different addresses, one PostgreSQL: the rep's phone talks to
// relay 1, the tablet to relay 2.
test.describe.configure({ mode: 'serial' });

let relays: Relays;
test.beforeAll(async () => {
  const base = Number(process.env.FIELDBOOK_E2E_RELAYS_PORT ?? 8091);
  relays = await Relays.start([base, base + 1]);
});
test.afterAll(async () => {
  await relays?.stop();
});

test('a phone on relay 1 and a tablet on relay 2 see each other live and converge after being offline', async ({ browser }) => {
  const email = uniqueEmail();
  const phone = await openDevice(browser, relays.urls[0], email, 'Phone', false, phoneSize);
  const tablet = await openDevice(browser, relays.urls[1], email, 'Tablet', true, tabletSize);

  // Live, phone → tablet: a new customer appears on the tablet's open list.
  await tablet.list.open();
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Relay Rita', company: 'Two Hops Ltd' });
  await phone.account.expectBackedUp();
  await expect(tablet.list.rowNames.filter({ hasText: 'Relay Rita' })).toBeVisible({ timeout: 10_000 });

  // Live, tablet → phone: an edit reaches the phone's open customer page.
  await tablet.list.openCustomer('Relay Rita');
  const onTablet = new CustomerPage(tablet.page);
  await onTablet.setField('job_title', 'Purchasing lead');
  await onTablet.expectSaved();
  await expect(new CustomerPage(phone.page).field('job_title')).toHaveValue('Purchasing lead', { timeout: 10_000 });

  // The tablet goes offline; both edit different fields; back online, both agree.
  await goOffline(tablet);
  await new CustomerPage(phone.page).setField('company', 'Two Hops Ltd (Porto)');
  await phone.account.expectBackedUp();
  await onTablet.setField('notes', 'Met at the Porto fair');
  await expect(tablet.page.getByTestId('sync-status')).toContainText('not backed up');
  await tablet.context.setOffline(false);
  await tablet.account.expectBackedUp();
  for (const device of [phone, tablet]) {
    const customer = new CustomerPage(device.page);
    await expect(customer.field('company')).toHaveValue('Two Hops Ltd (Porto)', { timeout: 10_000 });
    await expect(customer.field('notes')).toHaveValue('Met at the Porto fair', { timeout: 10_000 });
    await expect(customer.field('job_title')).toHaveValue('Purchasing lead');
  }
  await phone.context.close();
  await tablet.context.close();
});

import { expect, test } from '@playwright/test';
import { CustomerPage } from './fixtures/customer_page';
import { goOffline, twoDevices } from './fixtures/devices';
import { HistoryPage } from './fixtures/history_page';
import { BrowserProfile, tabRole } from './fixtures/browser_profile';

test('edits on two devices, one offline, are in the history on both with their device; an old value put back reaches the other device', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Hedda Historia', company: 'Old Mill' });
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await tablet.list.openCustomer('Hedda Historia');

  // The tablet works offline; the phone edits another field meanwhile.
  await goOffline(tablet);
  const onTablet = new CustomerPage(tablet.page);
  await onTablet.setField('job_title', 'Head buyer');
  await onTablet.expectSaved();
  const onPhone = new CustomerPage(phone.page);
  await onPhone.setField('company', 'New Mill');
  await onPhone.expectSaved();
  await phone.account.expectBackedUp();
  await tablet.context.setOffline(false);
  await tablet.account.expectBackedUp();
  await expect(onPhone.field('job_title')).toHaveValue('Head buyer', { timeout: 10_000 });

  for (const device of [phone, tablet]) {
    const history = new HistoryPage(device.page);
    await history.openFromCustomer();
    await expect(history.entry('Phone', 'Company: Old Mill → New Mill')).toHaveCount(1);
    await expect(history.entry('Tablet', 'Job title: Head buyer')).toHaveCount(1);
    await expect(history.entry('Phone', /Added as /)).toHaveCount(1);
    // Newest first: three entries, the creation last.
    await expect(history.entries).toHaveCount(3);
    await expect(history.entries.last()).toContainText('Added as');
    // This device's own entries say so.
    const own = device === phone ? 'Phone (this device)' : 'Tablet (this device)';
    await expect(device.page.getByTestId('history-device').filter({ hasText: own }).first()).toBeVisible();
  }

  // On the tablet: the company's earlier values, and "Old Mill" put back.
  const tabletHistory = new HistoryPage(tablet.page);
  await tabletHistory.openField('company');
  await expect(tabletHistory.values.getByTestId('field-value-text')).toHaveText(['New Mill', 'Old Mill']);
  await expect(tabletHistory.values.first()).toHaveAttribute('data-current', 'true');
  await tabletHistory.putBack('Old Mill');
  await expect(tabletHistory.values.getByTestId('field-value-text')).toHaveText(['Old Mill', 'New Mill', 'Old Mill']);
  await expect(tabletHistory.values.first()).toHaveAttribute('data-current', 'true');
  await tablet.account.expectBackedUp();

  // The phone, still on the history screen, gets the new entry and the value.
  const phoneHistory = new HistoryPage(phone.page);
  await expect(phoneHistory.entry('Tablet', 'Company: New Mill → Old Mill')).toHaveCount(1, { timeout: 10_000 });
  await phone.page.getByTestId('back').click();
  await expect(onPhone.field('company')).toHaveValue('Old Mill');
  await phone.context.close();
  await tablet.context.close();
});

test('a value that can no longer be put back says why and changes nothing', async ({ browser, baseURL }) => {
  const { phone } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Rita Revert', company: 'Gone GmbH' });
  const customer = new CustomerPage(phone.page);
  await customer.addContact('phones', '+43 664 1111111');
  await customer.expectContacts('phones', ['+43 664 1111111']);
  await customer.setField('company', '');
  await customer.contactValues('phones').first().fill('+43 664 2222222');
  await customer.contactValues('phones').first().blur();
  await customer.expectSaved();
  await phone.page.getByTestId('phones-remove').click();
  await customer.expectContacts('phones', []);
  await customer.expectSaved();

  const history = new HistoryPage(phone.page);
  await history.openFromCustomer();
  await expect(history.entry('Phone', 'Company removed (was Gone GmbH)')).toHaveCount(1);
  await expect(history.entry('Phone', 'Phone removed: +43 664 2222222')).toHaveCount(1);
  await expect(history.entry('Phone', 'Phone: +43 664 1111111 → +43 664 2222222')).toHaveCount(1);
  await history.openField(await phone.page.locator('[data-testid="history-line"][data-field^="phones."]').first().getAttribute('data-field') ?? '');
  await history.values.filter({ hasText: '+43 664 1111111' }).getByTestId('put-back').click();
  await expect(phone.page.getByTestId('put-back-error')).toContainText('no longer on this customer');
  await phone.page.getByTestId('back').click();
  await expect(history.entries).toHaveCount(5);
  // A value of a field that is still there goes back as a new change.
  await history.openField('company');
  await history.putBack('Gone GmbH');
  await expect(history.values.first()).toHaveAttribute('data-current', 'true');
  await phone.page.getByTestId('back').click();
  await expect(history.entries).toHaveCount(6);
  await expect(history.entries.first()).toContainText('Company: Gone GmbH');
  await phone.context.close();
});

test('Recent changes lists what the other device did since the last look', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  // The tablet downloads the book once (Ulla); what comes next arrives by sync.
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Ulla Downloaded', company: 'First One' });
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await expect(tablet.list.rowNames.filter({ hasText: 'Ulla Downloaded' })).toBeVisible({ timeout: 10_000 });
  await tablet.account.expectBackedUp();
  await tablet.list.open();
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Olga Before', company: 'Seen Already' });
  await phone.account.expectBackedUp();
  await expect(tablet.list.rowNames.filter({ hasText: 'Olga Before' })).toBeVisible({ timeout: 10_000 });
  // The tablet looks once: Olga arrived from the phone.
  await tablet.page.goto('/menu');
  await tablet.page.getByTestId('menu-recent').click();
  await expect(tablet.page.getByTestId('recent-change').filter({ hasText: 'Olga Before' })).toBeVisible();
  // A download is not a change of another device.
  await expect(tablet.page.getByTestId('recent-change').filter({ hasText: 'Ulla Downloaded' })).toHaveCount(0);

  // The tablet goes offline; the phone works: a new customer and an edit.
  await goOffline(tablet);
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Nina New', company: 'Fresh GmbH' });
  await new CustomerPage(phone.page).expectSaved();
  await phone.list.open();
  await phone.list.openCustomer('Olga Before');
  await new CustomerPage(phone.page).setField('company', 'Seen Again');
  await phone.account.expectBackedUp();

  // Back online, the tablet's next look shows only what came since the last one.
  await tablet.context.setOffline(false);
  await tablet.account.expectBackedUp();
  await tablet.page.goto('/recent');
  const recent = tablet.page.getByTestId('recent-change');
  await expect(recent.filter({ hasText: 'Nina New' })).toContainText('Added as');
  await expect(recent.filter({ hasText: 'Olga Before' })).toContainText('Company: Seen Already → Seen Again');
  await expect(recent.filter({ hasText: 'Olga Before' })).not.toContainText('Added as');
  await expect(recent).toHaveCount(2);
  for (const change of await recent.all()) {
    await expect(change.getByTestId('history-device')).toHaveText('Phone');
  }
  // A reload is a new look: nothing new since.
  await tablet.page.reload();
  await expect(tablet.page.getByTestId('recent-empty')).toContainText('Nothing changed on your other devices since you last looked');
  // A longer period lists them again; a change opens the customer's history.
  await tablet.page.getByTestId('recent-since').selectOption('today');
  await expect(recent).toHaveCount(3);
  await recent.filter({ hasText: 'Nina New' }).getByTestId('recent-customer').click();
  await expect(tablet.page.getByTestId('history-page')).toBeVisible();
  await expect(tablet.page.getByTestId('history-customer')).toHaveText('Nina New');
  await phone.context.close();
  await tablet.context.close();
});

test('a tab that does not write reads the history and puts a value back through the writing tab', async ({ baseURL }) => {
  const profile = new BrowserProfile(baseURL);
  try {
    await profile.launch();
    const a = await profile.openTab();
    const b = await profile.openTab();
    await expect.poll(() => tabRole(a)).toBe('writer');
    await expect.poll(() => tabRole(b)).toBe('follower');
    await a.list.addCustomer({ name: 'Tomas Tabs', company: 'First Name Co' });
    await a.customer.setField('company', 'Second Name Co');
    await a.customer.expectSaved();
    await expect(b.list.rowNames.filter({ hasText: 'Tomas Tabs' })).toBeVisible();
    await b.list.openCustomer('Tomas Tabs');
    const history = new HistoryPage(b.page);
    await history.openFromCustomer();
    await expect(history.entries).toHaveCount(2);
    await history.openField('company');
    await history.putBack('First Name Co');
    // The writing tab stored it; its open page shows it.
    await expect(a.customer.field('company')).toHaveValue('First Name Co');
  } finally {
    await profile.remove();
  }
});

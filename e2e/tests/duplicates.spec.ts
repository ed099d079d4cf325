import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { CustomerRecords } from './fixtures/customer_records';

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

test('a duplicate pair is found and merged without losing anything', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Mara Dupree', email: 'mara@dupree.example' });
  const customer = new CustomerPage(page);
  await customer.addTag('vip');
  await new CustomerRecords(page).log('call', { summary: 'First call, from the first record' });
  await customer.backToList();
  await list.addCustomer({ name: 'Mara Dupre', company: 'Dupree Vins', email: 'MARA@dupree.example', phone: '+33 6 11 22 33 44' });
  await new CustomerRecords(page).log('visit', { summary: 'Visit logged on the second record' });
  await customer.backToList();
  await list.addCustomer({ name: 'Someone Else', company: 'Other Co' });
  await customer.backToList();

  await page.getByTestId('open-menu').click();
  await page.getByTestId('menu-duplicates').click();
  await expect(page.getByTestId('duplicates-summary')).toContainText('1 likely duplicate pair among 3 customers');
  await expect(page.getByTestId('duplicate-pair')).toHaveCount(1);
  await expect(page.getByTestId('duplicate-pair')).toContainText('same email');
  await page.getByTestId('review-pair').click();
  await expect(page.getByTestId('merge-page')).toBeVisible();
  // The older record is kept by default.
  await expect(page.getByTestId('merge-keep')).toHaveText('Mara Dupree');
  const keep = 'Mara Dupree';
  // The kept one's empty company is filled from the other by default.
  await expect(page.getByTestId('preview-name')).toContainText(keep);
  await expect(page.getByTestId('merge-preview')).toContainText('Dupree Vins');
  await expect(page.getByTestId('preview-records')).toContainText('3 activities (with the merge note)');
  await page.getByTestId('merge-confirm').click();

  await expect(page.getByTestId('customer-heading')).toHaveText(keep);
  const records = new CustomerRecords(page);
  await expect(records.timelineItems).toHaveCount(3);
  await expect(records.timeline).toContainText('First call, from the first record');
  await expect(records.timeline).toContainText('Visit logged on the second record');
  await expect(records.timeline).toContainText('Merged with');
  await customer.expectContacts('emails', ['mara@dupree.example']);
  await customer.expectContacts('phones', ['+33 6 11 22 33 44']);
  await expect(customer.field('company')).toHaveValue('Dupree Vins');
  await expect(page.getByTestId('tag-chip')).toContainText(['#vip']);

  // The other is archived (not deleted) and the pair is gone.
  await customer.backToList();
  await expect(list.rowNames).toHaveText([keep, 'Someone Else']);
  await expect(page.getByTestId('toggle-archived')).toContainText('Archived (1)');
  await page.getByTestId('open-menu').click();
  await page.getByTestId('menu-duplicates').click();
  await expect(page.getByTestId('duplicates-summary')).toContainText('0 likely duplicate pairs');
});

import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';

test('archiving hides a customer from the list and restoring brings it back', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomers([{ name: 'Keep Me' }, { name: 'Archive Me' }]);
  await list.openCustomer('Archive Me');
  const customer = new CustomerPage(page);
  await customer.archiveToggle.click();
  await customer.expectSaved();
  await expect(customer.archivedBanner).toBeVisible();

  await page.reload();
  await expect(customer.archivedBanner).toBeVisible();
  await list.open();
  expect(await list.names()).toEqual(['Keep Me']);
  await expect(list.toggleArchived).toHaveText('Archived (1)');

  await list.toggleArchived.click();
  expect(await list.names()).toEqual(['Archive Me']);
  await list.openCustomer('Archive Me');
  await customer.archiveToggle.click();
  await customer.expectSaved();
  await expect(customer.archivedBanner).toBeHidden();
  await list.open();
  await list.toggleArchived.click();
  await list.toggleArchived.click();
  expect(await list.names()).toEqual(['Archive Me', 'Keep Me']);
});

import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { NewCustomerPage } from './fixtures/new_customer_page';

test('a rep adds a customer and finds it again after a reload', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await expect(list.emptyBook).toBeVisible();

  await list.addCustomer({
    name: 'Zoë Dupont',
    company: 'Fromagerie Lyonnaise',
    email: 'zoe@fromagerie.example',
    phone: '+33 6 12 34 56 78',
    stage: 'customer',
    tags: 'vip, salon-2026',
  });
  await expect(page.getByTestId('call')).toHaveAttribute('href', 'tel:+33612345678');
  await expect(page.getByTestId('email')).toHaveAttribute('href', 'mailto:zoe@fromagerie.example');

  await page.reload();
  await expect(page.getByTestId('customer-heading')).toHaveText('Zoë Dupont');
  await expect(page.getByTestId('field-company')).toHaveValue('Fromagerie Lyonnaise');
  await expect(page.getByTestId('field-stage')).toHaveValue('customer');
  await expect(page.getByTestId('tag-chip')).toHaveText(['#salon-2026×', '#vip×']);

  await list.open();
  expect(await list.names()).toEqual(['Zoë Dupont']);
  await expect(list.resultCount).toHaveText('1 customer');
});

test('the form explains what is wrong and stores nothing', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addButton.click();
  const form = new NewCustomerPage(page);

  await form.fill({ jobTitle: 'Buyer' });
  await form.save.click();
  await expect(form.error('new-name')).toHaveText('enter a name or a company');

  await form.fill({ name: 'Bob Martin', email: 'bob.example.com', phone: 'call me' });
  await form.save.click();
  await expect(form.error('new-email')).toContainText('is not an email address');
  await expect(form.error('new-phone')).toContainText('is not a phone number');
  // Correcting a field takes its message away at once; the other stays until it is fixed.
  await form.fill({ email: 'bob@example.com' });
  await expect(form.error('new-email')).toHaveCount(0);
  await expect(page.getByTestId('new-email')).not.toHaveAttribute('aria-invalid', 'true');
  await expect(form.error('new-phone')).toContainText('is not a phone number');

  await list.open();
  await expect(list.emptyBook).toBeVisible();
});

test('the new-customer form says who may already be in the book, as quick capture does', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Anna Wien', company: 'Donau Handel', phone: '+43 664 200 3001' });
  await list.open();
  await list.addButton.click();
  const form = new NewCustomerPage(page);
  await expect(page.getByTestId('duplicate-hints')).toHaveCount(0);
  // The same phone written the national way.
  await form.fill({ name: 'A. Wien', phone: '0664 2003001' });
  await expect(page.getByTestId('duplicate-hint')).toHaveCount(1);
  await expect(page.getByTestId('duplicate-hint')).toContainText('Anna Wien');
  await page.getByTestId('open-existing').click();
  await expect(page.getByTestId('customer-heading')).toHaveText('Anna Wien');
  await list.open();
  expect(await list.names()).toEqual(['Anna Wien']);
});

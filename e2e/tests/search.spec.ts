import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';

test('search as you type over name, company, email, phone and tags; filter; sort', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  const people = [
    { name: 'Zoë Dupont', company: 'Fromagerie Lyonnaise', phone: '+33 6 12 34 56 78', tags: 'vip', stage: 'customer' },
    { name: 'Bruno Weber', company: 'Alpine Motors', email: 'bruno@alpine.example', stage: 'lead' },
    { name: 'Chloé Martin', company: 'Cobalt Dental', tags: 'expo-lyon', stage: 'lead' },
  ];
  await list.addCustomers(people);
  expect(await list.names()).toEqual(['Bruno Weber', 'Chloé Martin', 'Zoë Dupont']);

  await list.searchFor('zoe');
  expect(await list.names()).toEqual(['Zoë Dupont']);
  await list.searchFor('DENTAL');
  expect(await list.names()).toEqual(['Chloé Martin']);
  await list.searchFor('bruno@alpine');
  expect(await list.names()).toEqual(['Bruno Weber']);
  // The national form finds the international number, and the other way round.
  await list.searchFor('0612 34');
  expect(await list.names()).toEqual(['Zoë Dupont']);
  await list.searchFor('06 12 34 56 78');
  expect(await list.names()).toEqual(['Zoë Dupont']);
  await list.searchFor('0033612345678');
  expect(await list.names()).toEqual(['Zoë Dupont']);
  await list.searchFor('612 34');
  expect(await list.names()).toEqual(['Zoë Dupont']);
  await list.searchFor('0612 35');
  await expect(list.noResults).toBeVisible();
  await list.searchFor('lyon');
  expect(await list.names()).toEqual(['Chloé Martin', 'Zoë Dupont']);
  await expect(list.resultCount).toHaveText('2 of 3 customers');

  await list.searchFor('');
  await list.stageFilter.selectOption('lead');
  expect(await list.names()).toEqual(['Bruno Weber', 'Chloé Martin']);
  await list.stageFilter.selectOption('');
  await list.tagFilter.selectOption('vip');
  expect(await list.names()).toEqual(['Zoë Dupont']);
  await list.tagFilter.selectOption('');

  await list.sort.selectOption('updated');
  expect(await list.names()).toEqual(['Chloé Martin', 'Bruno Weber', 'Zoë Dupont']);
});

test('search stays instant over a large sample book', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addSampleCustomers(2000, 7);
  await list.open();
  await expect(list.resultCount).toContainText('customers');
  // Only the rows on screen are rendered, whatever the size of the book.
  expect(await list.rows.count()).toBeLessThan(60);
  await list.searchFor('wines lyon');
  const names = await list.names();
  expect(names.length).toBeGreaterThan(0);
  for (const name of names.slice(0, 5)) {
    await list.searchFor(name);
    await expect(list.rowNames.first()).toHaveText(name);
  }
});

import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { storageFullAfter } from './fixtures/storage_full';
import { engineTotal } from './fixtures/engine_timings';

test('every kind of field is edited in place and survives a reload', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Ada Lovelace', company: 'Analytical Engines' });
  const customer = new CustomerPage(page);

  await customer.setField('job_title', 'Head of purchasing');
  await customer.expectSaved();
  await customer.field('stage').selectOption('loyal');
  await customer.expectSaved();
  await customer.addTag('key-account');
  await customer.addContact('emails', 'ada@engines.example');
  await customer.expectContacts('emails', ['ada@engines.example']);
  await customer.addContact('phones', '(555) 010-4477');
  await customer.expectContacts('phones', ['(555) 010-4477']);
  await customer.setField('address.city', 'London');
  await customer.field('channel').selectOption('in_person');
  await customer.setBirthday({ day: '10', month: '12', year: '1815' });
  await customer.setField('notes', 'Prefers morning visits.');
  await customer.expectSaved();

  await page.reload();
  await expect(customer.heading).toHaveText('Ada Lovelace');
  await expect(customer.field('job_title')).toHaveValue('Head of purchasing');
  await expect(customer.field('stage')).toHaveValue('loyal');
  await expect(page.getByTestId('tag-chip')).toHaveText(['#key-account×']);
  await customer.expectContacts('emails', ['ada@engines.example']);
  await customer.expectContacts('phones', ['(555) 010-4477']);
  await expect(customer.field('address.city')).toHaveValue('London');
  await expect(customer.field('channel')).toHaveValue('in_person');
  await customer.expectBirthday({ day: '10', month: '12', year: '1815' });
  await expect(customer.field('notes')).toHaveValue('Prefers morning visits.');

  // The list reflects the edit without opening the document.
  await customer.backToList();
  await list.searchFor('key-account');
  expect(await list.names()).toEqual(['Ada Lovelace']);
});

test('an invalid edit is explained under the field and not stored', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Grace Hopper' });
  const customer = new CustomerPage(page);

  await customer.setField('name', '');
  await expect(customer.fieldError('name')).toHaveText('enter a name or a company');
  await customer.addContact('emails', 'not-an-email');
  await expect(page.getByTestId('error-emails.new')).toContainText('is not an email address');
  // A day the month does not have is refused; a birthday without a year is kept.
  await customer.setBirthday({ day: '31', month: '2' });
  await expect(customer.fieldError('birthday')).toHaveText('February has no day 31');
  await customer.setBirthday({ day: '29', month: '2' });
  await customer.expectSaved();
  await expect(customer.fieldError('birthday')).toHaveCount(0);

  await page.reload();
  await expect(customer.heading).toHaveText('Grace Hopper');
  await expect(customer.contactValues('emails')).toHaveCount(0);
  await customer.expectBirthday({ day: '29', month: '2' });
});

test('a full device storage is reported, never shown as saved', async ({ page }) => {
  const storageFull = (full: boolean) => storageFullAfter(page, full ? 0 : null);
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Quota Test' });
  const customer = new CustomerPage(page);

  await storageFull(true);
  await customer.setField('notes', 'Met at the Lyon expo.');
  await expect(customer.saveStatus).toHaveAttribute('data-state', 'failed');
  await expect(page.getByTestId('customer-page').getByTestId('storage-error')).toContainText(
    'storage is full',
  );
  await expect(customer.fieldError('notes')).toContainText('not saved');

  // Nothing was stored half-way: after a reload the note is not there, and the next edit,
  // once space is back, saves normally.
  await storageFull(false);
  await page.reload();
  await expect(customer.field('notes')).toHaveValue('');
  await customer.setField('notes', 'Second try.');
  await customer.expectSaved();
  await page.reload();
  await expect(customer.field('notes')).toHaveValue('Second try.');
});

test('many edits are compacted on the device without losing any', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Compaction Carl' });
  const customer = new CustomerPage(page);
  for (let edit = 1; edit <= 30; edit++) {
    await customer.setField('job_title', `Title ${edit}`);
    // The list's summary changes only once the edit's transaction committed.
    await expect(list.rows.filter({ hasText: `Title ${edit}` })).toHaveCount(1);
  }
  await customer.expectSaved();
  // One snapshot plus at most the chunks appended since the last compaction (24).
  const nChunks = await page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const request = indexedDB.open('fieldbook');
        request.onsuccess = () => {
          const count = request.result.transaction('doc_chunks').objectStore('doc_chunks').count();
          count.onsuccess = () => {
            request.result.close();
            resolve(count.result);
          };
          count.onerror = () => reject(count.error);
        };
        request.onerror = () => reject(request.error);
      }),
  );
  expect(nChunks).toBeLessThan(24);
  await page.reload();
  await expect(customer.field('job_title')).toHaveValue('Title 30');
});

test('an edit of the customer shown is one request to the engine, and the page shows what it committed', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Request Rita', company: 'Counting Ltd' });
  const customer = new CustomerPage(page);
  await customer.setField('job_title', 'Buyer 0');
  await customer.expectSaved();
  // Whatever the page still reads after opening the customer, before counting.
  await page.waitForTimeout(500);
  const before = await engineTotal(page, 'engine: requests');
  for (let edit = 1; edit <= 3; edit++) {
    await customer.setField('job_title', `Buyer ${edit}`);
    await expect(list.rows.filter({ hasText: `Buyer ${edit}` })).toHaveCount(1);
    await customer.expectSaved();
  }
  await page.waitForTimeout(500);
  // Made against the version shown (no read before it), answered with the customer as
  // committed and its conflicts (no read after it).
  expect((await engineTotal(page, 'engine: requests')) - before).toBe(3);
  await expect(customer.field('job_title')).toHaveValue('Buyer 3');
  await page.reload();
  await expect(customer.field('job_title')).toHaveValue('Buyer 3');
});

test('two edits of one field in a row, the second before the first is saved, keep the last value and show no conflict', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Quick Quentin', company: 'Hurry AG' });
  const customer = new CustomerPage(page);
  await customer.setField('job_title', 'Intern');
  await customer.expectSaved();
  // Both changes in one task: the second is made while the first is still in flight.
  await page.evaluate(() => {
    const input = document.querySelector('[data-testid="field-job_title"]') as HTMLInputElement;
    for (const value of ['Buyer', 'Head buyer']) {
      input.value = value;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }
  });
  await expect(list.rows.filter({ hasText: 'Head buyer' })).toHaveCount(1);
  await customer.expectSaved();
  // Made one after the other, not both on the same version (which would be two
  // concurrent values of the field: a conflict between the rep's own edits).
  await expect(page.getByTestId('conflicts')).toHaveCount(0);
  await expect(customer.field('job_title')).toHaveValue('Head buyer');
  await page.reload();
  await expect(customer.field('job_title')).toHaveValue('Head buyer');
  await expect(page.getByTestId('conflicts')).toHaveCount(0);
});

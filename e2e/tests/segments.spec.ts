import { expect, test, type Page } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

/** The segments screen. */
class SegmentsPage {
  constructor(readonly page: Page) {}

  async open() {
    await this.page.goto('/menu');
    await this.page.getByTestId('menu-segments').click();
    await expect(this.page.getByTestId('segments-page')).toBeVisible();
  }

  members() {
    return this.page.getByTestId('segment-member').locator('strong');
  }
}

async function addCustomer(page: Page, name: string, stage: string, city: string) {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name, stage });
  const customer = new CustomerPage(page);
  await customer.setField('address.city', city);
  await customer.expectSaved();
}

test('a segment is saved, reopened after a reload, tagged in bulk and exported', async ({ page }) => {
  await addCustomer(page, 'Loyal Lyon One', 'loyal', 'Lyon');
  await addCustomer(page, 'Loyal Lyon Two', 'loyal', 'lyon');
  await addCustomer(page, 'Loyal Paris', 'loyal', 'Paris');
  await addCustomer(page, 'Lead Lyon', 'lead', 'Lyon');

  const segments = new SegmentsPage(page);
  await segments.open();
  await expect(page.getByTestId('segment-count')).toHaveText('4 customers');
  await page.getByTestId('segment-stage').selectOption('loyal');
  await page.getByTestId('segment-city').fill('Lyon');
  await page.getByTestId('segment-city').blur();
  await page.getByTestId('segment-quiet').selectOption('60');
  await expect(page.getByTestId('segment-description')).toHaveText('stage Loyal customer · city Lyon · not contacted for 60 days');
  await expect(segments.members()).toHaveText(['Loyal Lyon One', 'Loyal Lyon Two']);
  // A segment needs a name.
  await page.getByTestId('segment-save').click();
  await expect(page.getByTestId('segment-message')).toHaveText('Name the segment to save it.');
  await page.getByTestId('segment-name').fill('Loyal in Lyon, quiet');
  await page.getByTestId('segment-save').click();
  await expect(page.getByTestId('segment-message')).toHaveText('Saved "Loyal in Lyon, quiet".');

  await page.reload();
  await expect(page.getByTestId('segment-count')).toHaveText('4 customers');
  await page.getByTestId('saved-segment').filter({ hasText: 'Loyal in Lyon, quiet' }).click();
  await expect(page.getByTestId('segment-stage')).toHaveValue('loyal');
  await expect(segments.members()).toHaveText(['Loyal Lyon One', 'Loyal Lyon Two']);

  await page.getByTestId('bulk-tag').fill('lyon-tour');
  await page.getByTestId('bulk-tag-apply').click();
  await expect(page.getByTestId('segment-message')).toHaveText('Updated 2 customers.');
  await page.getByTestId('bulk-stage').selectOption('advocate');
  await page.getByTestId('bulk-stage-apply').click();
  await expect(page.getByTestId('segment-message')).toHaveText('Updated 2 customers.');
  // Now advocates: they left the "loyal" segment.
  await expect(page.getByTestId('segment-count')).toHaveText('0 customers');
  await page.getByTestId('segment-stage').selectOption('advocate');
  await page.getByTestId('segment-tag').selectOption('lyon-tour');
  await expect(segments.members()).toHaveText(['Loyal Lyon One', 'Loyal Lyon Two']);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('segment-export').click()]);
  expect(download.suggestedFilename()).toMatch(/^fieldbook-segment-\d{4}-\d{2}-\d{2}\.csv$/);
  const bytes = Buffer.concat(await (await download.createReadStream()).toArray());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // a BOM: Excel reads the accents
  const lines = bytes.toString('utf8').replace(/^\uFEFF/, '').trim().split('\n');
  // One value per cell: an email or phone and its label in columns of their own.
  expect(lines[0]).toBe(
    'Name,Company,Job title,Email 1 label,Email 1,Phone 1 label,Phone 1,Street,City,Postal code,Region,Country,Stage,Tags,Owner,Birthday,Notes,Lifetime value,Currency,Last contact,Fieldbook ID',
  );
  expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(['Loyal Lyon One', 'Loyal Lyon Two']);
  expect(lines[1]).toContain('advocate,lyon-tour');
});

test('customers exported as vCard are imported back on another device', async ({ browser, baseURL }) => {
  const phone = await browser.newPage({ baseURL, viewport: { width: 390, height: 844 } });
  await addCustomer(phone, 'Card Carla', 'customer', 'Annecy');
  const customer = new CustomerPage(phone);
  await customer.addContact('emails', 'carla@cards.example');
  await customer.addContact('phones', '+33 4 50 00 00 01');
  await customer.addTag('vip');
  await customer.expectSaved();
  await addCustomer(phone, 'Card Cyril', 'lead', 'Annecy');
  const segments = new SegmentsPage(phone);
  await segments.open();
  await phone.getByTestId('segment-city').fill('Annecy');
  await phone.getByTestId('segment-city').blur();
  await expect(segments.members()).toHaveText(['Card Carla', 'Card Cyril']);
  const [download] = await Promise.all([phone.waitForEvent('download'), phone.getByTestId('segment-export-vcard').click()]);
  expect(download.suggestedFilename()).toMatch(/\.vcf$/);
  const file = test.info().outputPath(download.suggestedFilename());
  await download.saveAs(file);
  await expect(phone.getByTestId('segment-message')).toHaveText('Exported 2 contact cards.');
  const text = require('node:fs').readFileSync(file, 'utf8') as string;
  expect(text.match(/BEGIN:VCARD/g)).toHaveLength(2);
  expect(text).toContain('VERSION:3.0');

  // A fresh device (its own storage) imports the file.
  const tablet = await browser.newPage({ baseURL, viewport: { width: 820, height: 1180 } });
  const list = new CustomerListPage(tablet);
  await list.open();
  await tablet.goto('/import');
  await tablet.getByTestId('import-file').setInputFiles(file);
  await expect(tablet.getByTestId('import-layout')).toHaveText('Recognised as: vCard');
  await tablet.getByTestId('import-run').click();
  await expect(tablet.getByTestId('import-summary')).toContainText('2 imported, 0 merged, 0 skipped as duplicates, 0 rows with errors');
  await list.open();
  await expect(list.rowNames).toHaveText(['Card Carla', 'Card Cyril']);
  await list.openCustomer('Card Carla');
  const carla = new CustomerPage(tablet);
  await carla.expectContacts('emails', ['carla@cards.example']);
  await carla.expectContacts('phones', ['+33 4 50 00 00 01']);
  await expect(tablet.getByTestId('field-address.city')).toHaveValue('Annecy');
  await expect(tablet.getByTestId('tag-chip')).toContainText(['#vip']);
  // Importing again skips Carla (same email); Cyril has no email or phone to match, so he is added again.
  await tablet.goto('/import');
  await tablet.getByTestId('import-file').setInputFiles(file);
  await tablet.getByTestId('import-run').click();
  await expect(tablet.getByTestId('import-summary')).toContainText('1 imported, 0 merged, 1 skipped as duplicates');
  await phone.close();
  await tablet.close();
});

test('a recurring check-in is set for every customer of a segment', async ({ page }) => {
  await addCustomer(page, 'Check Chloe', 'loyal', 'Nice');
  await addCustomer(page, 'Check Charles', 'loyal', 'Nice');
  await addCustomer(page, 'Other Olga', 'loyal', 'Metz');
  const segments = new SegmentsPage(page);
  await segments.open();
  await page.getByTestId('segment-city').fill('Nice');
  await page.getByTestId('segment-city').blur();
  await expect(segments.members()).toHaveText(['Check Charles', 'Check Chloe']);
  await page.getByTestId('bulk-check-in-apply').click();
  await expect(page.getByTestId('segment-message')).toHaveText('Choose how often to check in.');
  await page.getByTestId('bulk-check-in').selectOption('30');
  await page.getByTestId('bulk-check-in-apply').click();
  await expect(page.getByTestId('segment-message')).toHaveText('Updated 2 customers.');
  await page.goto('/follow-ups');
  await expect(page.getByTestId('follow-ups-upcoming').getByTestId('follow-up')).toHaveCount(2);
  await expect(page.getByTestId('follow-ups-upcoming')).toContainText('Check Charles');
  await expect(page.getByTestId('follow-ups-upcoming')).not.toContainText('Other Olga');
});

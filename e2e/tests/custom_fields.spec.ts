import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CustomerPage } from './fixtures/customer_page';
import { DashboardPage } from './fixtures/dashboard';
import { goOffline, openDevice, phoneSize, tabletSize, uniqueEmail } from './fixtures/devices';
import { CustomValues, FieldsPage } from './fixtures/fields_page';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-fields-'));
}

test('a choice field defined on the tablet is filled on the phone offline, then filters, segments, counts on the dashboard, and exports and imports back', async ({ browser, baseURL }) => {
  const email = uniqueEmail();
  const tablet = await openDevice(browser, baseURL, email, 'Tablet', false, tabletSize);
  const phone = await openDevice(browser, baseURL, email, 'Phone', true, phoneSize);

  // The tablet defines the fields.
  const fields = new FieldsPage(tablet.page);
  await fields.open();
  await fields.define({ name: 'Industry', kind: 'choice', choices: ['Retail', 'Wholesale', 'Export'] });
  await fields.define({ name: 'Fleet size', kind: 'number', inCapture: true });
  await fields.define({ name: 'Met at', kind: 'text' });
  await expect(fields.definition('Industry').getByTestId('field-def-flags')).toHaveText('One choice · 3 choices');
  await tablet.account.expectBackedUp();
  await tablet.page.screenshot({ path: 'test-results/fields-tablet.png', fullPage: true });

  // The phone gets them, adds two customers, and fills the fields offline.
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Ada Retail' });
  const values = new CustomValues(phone.page);
  await expect(values.input('Industry')).toBeVisible({ timeout: 20_000 });
  await phone.page.getByTestId('customer-page').getByTestId('back').click();
  await phone.list.addCustomer({ name: 'Bea Wholesale' });
  await phone.account.expectBackedUp();
  await goOffline(phone);
  const onPhone = new CustomerPage(phone.page);
  await values.choose('Industry', 'Wholesale');
  await onPhone.expectSaved();
  await values.fill('Fleet size', '7');
  await onPhone.expectSaved();
  await phone.list.open();
  await phone.list.openCustomer('Ada Retail');
  await values.choose('Industry', 'Retail');
  await onPhone.expectSaved();
  // A value the type cannot hold is refused with a reason, and nothing is saved.
  await values.fill('Fleet size', 'twelve');
  await expect(values.error('Fleet size')).toHaveText('enter a number, such as 12 or 12.5');
  await values.fill('Fleet size', '1 200');
  await onPhone.expectSaved();
  await expect(values.error('Fleet size')).toHaveCount(0);
  await expect(values.input('Fleet size')).toHaveValue('1200');
  await values.fill('Met at', 'Booth B12, hall Süd');
  await onPhone.expectSaved();
  await phone.page.screenshot({ path: 'test-results/fields-customer-phone.png', fullPage: true });
  // History names the field and the values as the rep reads them.
  await phone.page.getByTestId('open-history').click();
  await expect(phone.page.getByTestId('history-line').filter({ hasText: 'Industry: Retail' })).toHaveCount(1);
  await expect(phone.page.getByTestId('history-line').filter({ hasText: 'Fleet size: 1200' })).toHaveCount(1);
  await phone.page.screenshot({ path: 'test-results/fields-history-phone.png', fullPage: true });
  await phone.page.goBack();
  await phone.page.reload();
  await expect(values.input('Industry').locator('option:checked')).toHaveText('Retail');
  await expect(values.input('Met at')).toHaveValue('Booth B12, hall Süd');

  // Back online: the tablet sees the values, filters, searches and sorts by them.
  await phone.context.setOffline(false);
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await tablet.list.searchFor('hall sud');
  await expect(tablet.list.rowNames).toHaveText(['Ada Retail']);
  await tablet.list.searchFor('wholesale');
  await expect(tablet.list.rowNames).toHaveText(['Bea Wholesale']);
  await tablet.list.searchFor('');
  await tablet.page.getByTestId('filter-field').selectOption({ label: 'Industry: Retail' });
  await expect(tablet.list.rowNames).toHaveText(['Ada Retail']);
  await tablet.page.getByTestId('filter-field').selectOption({ label: 'All fields' });
  await tablet.list.sort.selectOption({ label: 'Fleet size, highest first' });
  await expect(tablet.list.rowNames).toHaveText(['Ada Retail', 'Bea Wholesale']);
  await tablet.list.sort.selectOption({ label: 'Fleet size, lowest first' });
  await expect(tablet.list.rowNames).toHaveText(['Bea Wholesale', 'Ada Retail']);
  await tablet.list.sort.selectOption('name');

  // A segment by the choice and by the number.
  await tablet.page.goto('/segments');
  await tablet.page.getByTestId('segment-field').selectOption({ label: 'Industry' });
  await tablet.page.getByTestId('segment-field-value').selectOption({ label: 'Retail' });
  await tablet.page.getByTestId('segment-condition-add').click();
  await expect(tablet.page.getByTestId('segment-description')).toHaveText('Industry is Retail');
  await expect(tablet.page.getByTestId('segment-member').locator('strong')).toHaveText(['Ada Retail']);
  await tablet.page.getByTestId('segment-condition').getByRole('button', { name: 'Remove condition' }).click();
  await tablet.page.getByTestId('segment-field').selectOption({ label: 'Fleet size' });
  await tablet.page.getByTestId('segment-op').selectOption('less');
  await tablet.page.getByTestId('segment-field-value').fill('10');
  await tablet.page.getByTestId('segment-condition-add').click();
  await expect(tablet.page.getByTestId('segment-description')).toHaveText('Fleet size is less than 10');
  await expect(tablet.page.getByTestId('segment-member').locator('strong')).toHaveText(['Bea Wholesale']);
  await tablet.page.screenshot({ path: 'test-results/fields-segment-tablet.png', fullPage: true });

  // The dashboard counts customers by the choice, each row leading to its customers.
  const dashboard = new DashboardPage(tablet.page);
  await dashboard.open();
  const byField = tablet.page.getByTestId('section-by-field');
  await expect(byField.getByTestId('by-field-customers').getByTestId('hbar-row')).toHaveText([/Retail\s*1/, /Wholesale\s*1/]);
  await byField.scrollIntoViewIfNeeded();
  await byField.screenshot({ path: 'test-results/fields-dashboard-tablet.png' });
  await byField.getByTestId('by-field-customers').getByTestId('hbar-row').first().click();
  await expect(tablet.page.getByTestId('drill-title')).toHaveText('Industry: Retail');
  await expect(tablet.page.getByTestId('drill-customer').locator('strong')).toHaveText(['Ada Retail']);

  // Exported with a column per field, and imported back: the values come back.
  await tablet.page.goto('/segments');
  const [download] = await Promise.all([tablet.page.waitForEvent('download'), tablet.page.getByTestId('segment-export').click()]);
  const file = path.join(tempDir(), 'export.csv');
  await download.saveAs(file);
  const csv = fs.readFileSync(file, 'utf8');
  const [header, ...rows] = csv.replace(/^\uFEFF/, '').trim().split(/\r?\n/);
  expect(header.endsWith(',Industry,Fleet size,Met at')).toBe(true);
  expect(rows.find((row) => row.startsWith('Ada Retail'))).toContain(',Retail,1200,"Booth B12, hall Süd"');
  // As contact cards too: each field a property named like it, which the import maps
  // back to the field of that name.
  const [cards] = await Promise.all([tablet.page.waitForEvent('download'), tablet.page.getByTestId('segment-export-vcard').click()]);
  const vcf = path.join(tempDir(), 'export.vcf');
  await cards.saveAs(vcf);
  const ada = fs.readFileSync(vcf, 'utf8').split('END:VCARD').find((card) => card.includes('FN:Ada Retail')) ?? '';
  for (const line of ['X-INDUSTRY:Retail', 'X-FLEET-SIZE:1200', 'X-MET-AT:Booth B12\\, hall Süd']) {
    expect(ada).toContain(line);
  }
  await tablet.page.goto('/import');
  await tablet.page.getByTestId('import-file').setInputFiles(vcf);
  for (const [property, field] of [['X-INDUSTRY', 'Industry'], ['X-FLEET-SIZE', 'Fleet size'], ['X-MET-AT', 'Met at']]) {
    await expect(tablet.page.locator(`[data-testid=import-property][data-property="${property}"] option:checked`)).toHaveText(`Field: ${field}`);
  }
  await tablet.page.goto('/import');
  await tablet.page.getByTestId('import-file').setInputFiles(file);
  await expect(tablet.page.locator('[data-testid=import-target][data-column="Industry"] option:checked')).toHaveText('Field: Industry');
  await tablet.page.getByTestId('on-duplicate-create').check();
  await tablet.page.getByTestId('import-run').click();
  await expect(tablet.page.getByTestId('import-summary')).toContainText('2 imported', { timeout: 30_000 });
  // Only the export's own id column is left out; every field's column was imported.
  await expect(tablet.page.getByTestId('import-unused')).toHaveText('Not imported (mapped to "Don\'t import"): Fieldbook ID (2 values).');
  await tablet.list.open();
  await tablet.page.getByTestId('filter-field').selectOption({ label: 'Industry: Retail' });
  await expect(tablet.list.rowNames).toHaveText(['Ada Retail', 'Ada Retail']);
  await phone.context.close();
  await tablet.context.close();
});

test('an unknown column of an import becomes a new field of the type its values suggest, and quick capture asks for capture fields', async ({ page }) => {
  await page.setViewportSize(phoneSize);
  const csv = [
    'Name,Company,Industry,Licence expiry',
    'Ana One,Shop A,Retail,2027-03-01',
    'Ben Two,Shop B,Wholesale,2026-12-31',
    'Cy Three,Shop C,retail,2028-01-15',
    'Di Four,Shop D,Retail,',
  ].join('\n');
  const file = path.join(tempDir(), 'leads.csv');
  fs.writeFileSync(file, csv);
  await page.goto('/import');
  await page.getByTestId('import-file').setInputFiles(file);
  for (const column of ['Industry', 'Licence expiry']) {
    await page.locator(`[data-testid=import-target][data-column="${column}"]`).selectOption('new-field');
  }
  await expect(page.getByTestId('import-new-field')).toHaveText([
    'A new field of type one choice with the choices Retail, Wholesale, guessed from the values.',
    'A new field of type date, guessed from the values.',
  ]);
  await page.screenshot({ path: 'test-results/fields-import-phone.png', fullPage: true });
  await page.getByTestId('import-run').click();
  await expect(page.getByTestId('import-summary')).toContainText('4 imported', { timeout: 30_000 });
  await expect(page.getByTestId('import-row-warning')).toHaveCount(0);
  const fields = new FieldsPage(page);
  await fields.open();
  await expect(fields.definitions.getByTestId('field-def-name')).toHaveText(['Industry', 'Licence expiry']);
  // Ask for the industry in quick capture, and require it there.
  const editor = await fields.edit('Industry');
  await editor.getByTestId('field-capture').check();
  await expect(fields.definition('Industry').getByTestId('field-def-flags')).toContainText('in quick capture');
  await editor.getByTestId('field-required').check();
  await expect(fields.definition('Industry').getByTestId('field-def-flags')).toContainText('required');
  // A choice renamed keeps every customer who has it.
  await editor.getByTestId('choice-label').first().fill('Shops');
  await editor.getByTestId('choice-label').first().blur();
  await expect(editor.getByTestId('choice-label').first()).toHaveValue('Shops');
  // The input holds what was typed at once; its name comes from the stored settings, so it
  // reads "Choice Shops" only once the engine committed the rename (leaving earlier lost it
  // to the reload below now and then).
  await expect(editor.getByTestId('choice-label').first()).toHaveAttribute('aria-label', 'Choice Shops');
  await page.goto('/');
  await page.getByTestId('filter-field').selectOption({ label: 'Industry: Shops' });
  await expect(page.getByTestId('row-name')).toHaveText(['Ana One', 'Cy Three', 'Di Four']);

  await page.goto('/capture');
  await expect(page.getByTestId('form-custom-industry')).toBeVisible();
  await page.getByTestId('capture-name').fill('Eve Capture');
  await page.getByTestId('capture-save').click();
  await expect(page.locator('.field-error')).toContainText(['Industry is required']);
  await page.getByTestId('form-custom-industry').selectOption({ label: 'Wholesale' });
  await page.screenshot({ path: 'test-results/fields-capture-phone.png', fullPage: true });
  await page.getByTestId('capture-save').click();
  await expect(page.getByTestId('capture-saved')).toContainText('Eve Capture');
  await page.goto('/');
  await page.getByTestId('filter-field').selectOption({ label: 'Industry: Wholesale' });
  await expect(page.getByTestId('row-name')).toHaveText(['Ben Two', 'Eve Capture']);
});

test('a vCard property without a built-in place goes into a new field, or into the field named like it', async ({ page }) => {
  await page.setViewportSize(phoneSize);
  const card = (name: string, extra: string[]) =>
    ['BEGIN:VCARD', 'VERSION:3.0', `FN:${name}`, ...extra, 'END:VCARD'].join('\r\n');
  const vcf = [
    card('Ana Card', ['X-INDUSTRY:Bakery', 'X-BOOTH:B12', 'URL:https://ana.example']),
    card('Ben Card', ['X-INDUSTRY:Dairy', 'X-BOOTH:C3']),
    card('Cy Card', ['X-INDUSTRY:bakery', 'X-BOOTH:B14']),
    card('Di Card', ['X-INDUSTRY:Dairy', 'X-BOOTH:A1']),
  ].join('\r\n');
  const file = path.join(tempDir(), 'stand.vcf');
  fs.writeFileSync(file, vcf);
  await page.goto('/import');
  await page.getByTestId('import-file').setInputFiles(file);
  const property = (name: string) => page.locator(`[data-testid=import-property][data-property="${name}"]`);
  await expect(page.getByTestId('import-card-properties').locator('.field-label')).toHaveText([
    /^Industry \(X-INDUSTRY\)\s+4 cards, e\.g\. Bakery$/,
    /^Booth \(X-BOOTH\)\s+4 cards, e\.g\. B12$/,
    /^Website \(URL\)\s+1 card, e\.g\. https:\/\/ana\.example$/,
  ]);
  await property('X-INDUSTRY').selectOption('new-field');
  await property('X-BOOTH').selectOption('new-field');
  await expect(page.getByTestId('import-new-field')).toHaveText([
    'A new field of type one choice with the choices Bakery, Dairy, guessed from the values.',
    'A new field of type text, guessed from the values.',
  ]);
  await page.screenshot({ path: 'test-results/fields-vcard-import-phone.png', fullPage: true });
  await page.getByTestId('import-run').click();
  await expect(page.getByTestId('import-summary')).toContainText('4 imported', { timeout: 30_000 });
  await expect(page.getByTestId('import-row-warning')).toHaveCount(0);
  await expect(page.getByTestId('import-unused')).toHaveText('Not imported: URL (1 value).');
  await page.goto('/');
  await page.getByTestId('filter-field').selectOption({ label: 'Industry: Dairy' });
  await expect(page.getByTestId('row-name')).toHaveText(['Ben Card', 'Di Card']);
  await page.getByTestId('filter-field').selectOption({ index: 0 });
  await page.getByTestId('row-name').filter({ hasText: 'Ana Card' }).click();
  const values = new CustomValues(page);
  await expect(values.input('Booth')).toHaveValue('B12');

  // A second file: its X-INDUSTRY goes to the field "Industry" without asking, and a
  // value that is not one of the choices is kept in the notes with a warning.
  const second = path.join(tempDir(), 'more.vcf');
  fs.writeFileSync(second, [card('Eve Card', ['X-INDUSTRY:Dairy']), card('Fay Card', ['X-INDUSTRY:Steel'])].join('\r\n'));
  await page.goto('/import');
  await page.getByTestId('import-file').setInputFiles(second);
  await expect(property('X-INDUSTRY').locator('option:checked')).toHaveText('Field: Industry');
  await page.getByTestId('import-run').click();
  await expect(page.getByTestId('import-summary')).toContainText('2 imported', { timeout: 30_000 });
  await expect(page.getByTestId('import-row-warning')).toHaveText([/Industry "Steel": “Steel” is not one of the choices; kept in the notes/]);
  await page.goto('/');
  await page.getByTestId('filter-field').selectOption({ label: 'Industry: Dairy' });
  await expect(page.getByTestId('row-name')).toHaveText(['Ben Card', 'Di Card', 'Eve Card']);
});

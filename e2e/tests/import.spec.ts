import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CustomerListPage } from './fixtures/customer_list_page';

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

/** The import screen. */
class ImportPage {
  constructor(readonly page: import('@playwright/test').Page) {}

  async open() {
    await this.page.goto('/menu');
    await this.page.getByTestId('menu-import').click();
    await expect(this.page.getByTestId('import-page')).toBeVisible();
  }

  async choose(file: string) {
    await this.page.getByTestId('import-file').setInputFiles(file);
  }

  async run() {
    await this.page.getByTestId('import-run').click();
    await expect(this.page.getByTestId('import-report')).toBeVisible({ timeout: 30_000 });
  }
}

function writeFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-import-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

test('a HubSpot export with 5 bad rows imports the good ones and lists the bad ones by line', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Already There', email: 'ada@example.com' });
  const csv = [
    'Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,City,Lifecycle Stage',
    '1,Ada,Lovelace,ADA@example.com,,Engines Ltd,CTO,London,customer',
    '2,Grace,Hopper,grace@navy.example,+1 202 555 0100,US Navy,Rear Admiral,Arlington,lead',
    ',,,,,,,,',
    '4,Bad,Email,not-an-email,,,,,',
    '5,,,,,,,Nowhere,',
    '6,Bad,Phone,,12ab,,,,',
    '7,Bad,Stage,,,,,,unicorn',
    `8,${'Long'.repeat(60)},Name,,,,,,`,
    '9,Alan,Turing,alan@bletchley.example,,Bletchley Park,,Wilmslow,subscriber',
    '10,"Marie, Jr.",Curie,marie@radium.example,,,,"Paris",',
  ].join('\n');
  const importer = new ImportPage(page);
  await importer.open();
  await importer.choose(writeFile('hubspot-contacts.csv', csv));
  await expect(page.getByTestId('import-layout')).toHaveText('Recognised as: HubSpot');
  await expect(page.locator('[data-testid=import-target][data-column="Company Name"]')).toHaveValue('Company');
  await expect(page.getByTestId('on-duplicate-skip')).toBeChecked();
  await importer.run();
  await expect(page.getByTestId('import-summary')).toContainText('3 imported, 0 merged, 1 skipped as duplicates, 5 rows with errors');
  await expect(page.getByTestId('import-row-error')).toHaveText([
    /^Line 5: .*not an email address/,
    /^Line 6: enter a name or a company/,
    /^Line 7: .*not a phone number/,
    /^Line 8: unknown lifecycle stage "unicorn"/,
    /^Line 9: too long/,
  ]);
  await list.open();
  await expect(list.rowNames).toHaveText(['Alan Turing', 'Already There', 'Grace Hopper', 'Marie, Jr. Curie']);
  await list.openCustomer('Grace Hopper');
  await expect(page.getByTestId('field-company')).toHaveValue('US Navy');
  await expect(page.getByTestId('field-stage')).toHaveValue('lead');
});

test('rows matching existing customers can be merged into them, with the mapping changed by hand', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Zoë Dupont', email: 'zoe@fromagerie.example' });
  await list.open();
  const csv = 'Nom;Courriel;Ville;Entreprise\nZoë D.;ZOE@fromagerie.example;Lyon;Fromagerie Lyonnaise\nPaul Bocuse;paul@bocuse.example;Collonges;Auberge\n';
  const importer = new ImportPage(page);
  await importer.open();
  await importer.choose(writeFile('french.csv', csv));
  await expect(page.getByTestId('import-layout')).toHaveText('Recognised as: Other CSV');
  // Unknown French headers: the rep maps them.
  for (const [column, target] of [['Nom', 'Full name'], ['Courriel', 'Email'], ['Ville', 'City'], ['Entreprise', 'Company']]) {
    await page.locator(`[data-testid=import-target][data-column="${column}"]`).selectOption(target);
  }
  await page.getByTestId('on-duplicate-merge').check();
  await importer.run();
  await expect(page.getByTestId('import-summary')).toContainText('1 imported, 1 merged, 0 skipped as duplicates, 0 rows with errors');
  await list.open();
  await expect(list.rowNames).toHaveText(['Paul Bocuse', 'Zoë Dupont']);
  await list.openCustomer('Zoë Dupont');
  await expect(page.getByTestId('field-company')).toHaveValue('Fromagerie Lyonnaise');
  await expect(page.getByTestId('field-address.city')).toHaveValue('Lyon');
  await expect(page.getByTestId('timeline')).toContainText('Updated from a CSV import');
});

test('a file that is not CSV is refused with a reason', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  const importer = new ImportPage(page);
  await importer.open();
  await importer.choose(writeFile('empty.csv', ''));
  await expect(page.getByTestId('import-error')).toContainText('Nothing imported');
  await expect(page.getByTestId('import-mapping')).toHaveCount(0);
});

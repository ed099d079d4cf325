import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CapturePage } from './fixtures/capture_page';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { CustomValues, FieldsPage } from './fixtures/fields_page';
import { BACKUP_FILE, SettingsFiles, UNSYNCED_FILE } from './fixtures/settings_files';

test('unsynced changes are exported to a file and imported on another device, once', async ({ browser, baseURL }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-export-'));
  try {
    // A device that never reached the relay: everything it holds is unsynced.
    const phone = await browser.newPage({ baseURL, viewport: { width: 390, height: 844 }, hasTouch: true });
    const phoneList = new CustomerListPage(phone);
    await phoneList.open();
    const capture = new CapturePage(phone);
    await capture.openFromList();
    await capture.capture({ name: 'Export Emma', company: 'Files Ltd' });
    await capture.capture({ name: 'Export Eli', phone: '+44 7700 900123' });
    const phoneFiles = new SettingsFiles(phone);
    await phoneFiles.open();
    await expect(phone.getByTestId('unsent-count')).toContainText('2 changes');
    const file = await phoneFiles.export('export-unsynced', dir, UNSYNCED_FILE, 'Exported 2 unsynced changes');

    // Another device imports it: both customers appear; a second import changes nothing.
    const tablet = await browser.newPage({ baseURL, viewport: { width: 820, height: 1180 } });
    const tabletList = new CustomerListPage(tablet);
    await tabletList.open();
    const tabletFiles = new SettingsFiles(tablet);
    await tabletFiles.open();
    await tabletFiles.import(file, 'Imported 2 changes of 2 customers');
    await tabletFiles.import(file, 'Imported 2 changes');
    await tabletList.open();
    await expect(tabletList.rowNames).toHaveText(['Export Eli', 'Export Emma']);

    // A file that is not an export is refused with a reason, and nothing is stored.
    const bad = path.join(dir, 'notes.json');
    fs.writeFileSync(bad, JSON.stringify({ hello: 'world' }));
    await tabletFiles.open();
    await tabletFiles.import(bad, 'Nothing imported: this is not a Fieldbook export');
    await tabletList.open();
    await expect(tabletList.rows).toHaveCount(2);
    await phone.close();
    await tablet.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a full backup restores every customer, their history, the catalog and custom fields on a new device', async ({ browser, baseURL }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-backup-'));
  try {
    const phone = await browser.newPage({ baseURL, viewport: { width: 390, height: 844 } });
    const phoneList = new CustomerListPage(phone);
    await phoneList.open();
    await phoneList.addCustomer({ name: 'Backup Bella', email: 'bella@backup.example' });
    await phone.getByTestId('log-call').click();
    await phone.getByTestId('activity-summary').fill('Called before the backup');
    await phone.getByTestId('activity-save').click();
    await expect(phone.getByTestId('timeline-item')).toHaveCount(1);
    await phoneList.open();
    await phoneList.addCustomer({ name: 'Backup Boris' });
    await phone.goto('/products');
    await phone.getByTestId('product-name').fill('Grinder');
    await phone.getByTestId('product-price').fill('199');
    await phone.getByTestId('product-add').click();
    await expect(phone.getByTestId('product')).toHaveCount(1);
    // A custom field, and Bella's value of it.
    const fields = new FieldsPage(phone);
    await fields.open();
    await fields.define({ name: 'Industry', kind: 'choice', choices: ['Retail', 'Export'] });
    await phoneList.open();
    await phoneList.openCustomer('Backup Bella');
    await new CustomValues(phone).choose('Industry', 'Export');
    await new CustomerPage(phone).expectSaved();
    const phoneFiles = new SettingsFiles(phone);
    await phoneFiles.open();
    const file = await phoneFiles.export('backup-export', dir, BACKUP_FILE, 'Backed up 3 documents');

    const tablet = await browser.newPage({ baseURL, viewport: { width: 820, height: 1180 } });
    const tabletList = new CustomerListPage(tablet);
    await tabletList.open();
    const tabletFiles = new SettingsFiles(tablet);
    await tabletFiles.open();
    await tabletFiles.import(file, 'Imported 3 changes of 2 customers');
    await tabletList.open();
    await expect(tabletList.rowNames).toHaveText(['Backup Bella', 'Backup Boris']);
    await tabletList.openCustomer('Backup Bella');
    await expect(tablet.getByTestId('timeline-summary')).toHaveText(['Called before the backup']);
    await expect(new CustomValues(tablet).input('Industry').locator('option:checked')).toHaveText('Export');
    await tablet.goto('/products');
    await expect(tablet.getByTestId('product-title')).toHaveText(['Grinder']);
    // Restoring again changes nothing.
    await tabletFiles.open();
    await tabletFiles.import(file, 'Imported 3 changes');
    await tabletList.open();
    await expect(tabletList.rows).toHaveCount(2);
    await phone.close();
    await tablet.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

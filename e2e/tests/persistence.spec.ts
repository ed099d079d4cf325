import { chromium, expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromiumArgs } from '../playwright.config';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { DeviceStorage, sampleBookInSnapshot } from './fixtures/device_storage';
import { engineTotal } from './fixtures/engine_timings';
import { removeProfile } from './fixtures/browser_profile';

test('customers survive closing the browser and opening it again', async ({ baseURL }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-profile-'));
  const launch = () =>
    chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: chromiumArgs,
      baseURL,
      viewport: { width: 390, height: 844 },
    });
  try {
    let context = await launch();
    let page = context.pages()[0] ?? (await context.newPage());
    let list = new CustomerListPage(page);
    await list.open();
    await list.addCustomer({ name: 'Persistent Paula', company: 'Durable Goods' });
    const customer = new CustomerPage(page);
    await customer.setField('job_title', 'Buyer');
    await customer.expectSaved();
    await context.close();

    context = await launch();
    page = context.pages()[0] ?? (await context.newPage());
    list = new CustomerListPage(page);
    await list.open();
    expect(await list.names()).toEqual(['Persistent Paula']);
    await list.openCustomer('Persistent Paula');
    await expect(new CustomerPage(page).field('job_title')).toHaveValue('Buyer');
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

test('an unreadable stored record is skipped and the rest of the book still shows', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomers([{ name: 'First Kept' }, { name: 'Second Kept' }]);
  // Damage the device database behind the app's back (store.rs: one summaries_log record per
  // write): an array with a broken element, a non-string value, text that is not an array.
  const storage = new DeviceStorage(page);
  await storage.add('summaries_log', '[{"id": "broken", "name": 42}]');
  await storage.add('summaries_log', 12345);
  await storage.add('summaries_log', '{"id": "broken"');
  await list.open();
  expect(await list.names()).toEqual(['First Kept', 'Second Kept']);
});

test('a list that lost its stored summaries is made again from the documents', async ({ page }) => {
  const { list, storage, count } = await sampleBookInSnapshot(page, 40, 5);
  // Both snapshots unreadable (as if a later build could read neither) and no log records.
  await storage.put('snapshots', 'summaries', [1, 2, 3], true);
  await storage.put('snapshots', 'summaries.json', 'not json');
  await list.open();
  // The engine finds documents the list lacks and makes their summaries again.
  await expect(list.resultCount).toHaveText(count, { timeout: 20_000 });
  await list.open();
  await expect(list.resultCount).toHaveText(count);
});

test('a device database from an older version opens with every customer and is folded into snapshots', async ({ page }) => {
  const list = new CustomerListPage(page);
  const storage = new DeviceStorage(page);
  await list.open();
  await list.addCustomers([{ name: 'Older Olga' }, { name: 'Older Oskar' }]);
  await storage.waitSnapshotCurrent();
  // Leave the app (its engine closes the database), then lay the same customers out as
  // version 4 did: one JSON summary per customer, a snapshot with copies beside it.
  await page.goto('/healthz');
  await page.evaluate(async () => {
    const done = (request: IDBRequest | IDBTransaction) =>
      new Promise((resolve, reject) => {
        if (request instanceof IDBTransaction) {
          request.oncomplete = () => resolve(undefined);
          request.onerror = () => reject(request.error);
        } else {
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        }
      });
    const current = (await done(indexedDB.open('fieldbook'))) as IDBDatabase;
    const read = current.transaction(['snapshots', 'doc_chunks'], 'readonly');
    const json = read.objectStore('snapshots').get('summaries.json');
    const keys = read.objectStore('doc_chunks').getAllKeys();
    const chunks = read.objectStore('doc_chunks').getAll();
    await done(read);
    current.close();
    await done(indexedDB.deleteDatabase('fieldbook'));
    const open = indexedDB.open('fieldbook', 4);
    open.onupgradeneeded = () => {
      for (const name of ['doc_chunks', 'summaries', 'meta', 'facts', 'snapshots', 'summaries_since', 'facts_since']) {
        open.result.createObjectStore(name);
      }
      open.result.createObjectStore('outbox', { autoIncrement: true });
    };
    const older = (await done(open)) as IDBDatabase;
    const write = older.transaction(['doc_chunks', 'summaries', 'snapshots'], 'readwrite');
    for (const summary of JSON.parse(json.result as string)) {
      write.objectStore('summaries').put(JSON.stringify(summary), summary.id);
    }
    (keys.result as IDBValidKey[]).forEach((key, i) => write.objectStore('doc_chunks').put((chunks.result as unknown[])[i], key));
    // Version 4's snapshot, unreadable here: the upgrade drops it.
    write.objectStore('snapshots').put(new Uint8Array([1, 2, 3]), 'summaries');
    await done(write);
    older.close();
  });
  await list.open();
  await expect(list.rowNames).toHaveText(['Older Olga', 'Older Oskar']);
  // The first compaction moves them into the snapshot and empties the old store.
  await storage.waitSnapshotCurrent();
  expect(await storage.count('summaries')).toBe(0);
  await list.open();
  await expect(list.rowNames).toHaveText(['Older Olga', 'Older Oskar']);
});

test('a tab steps aside when another tab upgrades the device database', async ({ page, context }) => {
  const list = new CustomerListPage(page);
  await list.open();
  // The list shows before the engine opens the database (index.html reads it): wait for the
  // engine, whose connection is the one that must step aside.
  await new DeviceStorage(page).waitEngineOpened();
  // A second tab opens the database at a newer version, as a new deployment would.
  const other = await context.newPage();
  await other.goto('/healthz');
  const upgraded = await other.evaluate(
    () =>
      new Promise<string>((resolve) => {
        // Far above the app's own version (client/common/src/store.rs DB_VERSION).
        const request = indexedDB.open('fieldbook', 99);
        request.onsuccess = () => {
          request.result.close();
          resolve('upgraded');
        };
        request.onblocked = () => resolve('blocked');
        request.onerror = () => resolve(`error ${request.error?.name}`);
      }),
  );
  // The first tab closed its connection instead of blocking the upgrade…
  expect(upgraded).toBe('upgraded');
  // …and tells the rep what to do.
  await expect(page.getByTestId('storage-unavailable-reason')).toContainText('updated in another tab');
  // This (older) build then explains it cannot open the newer data instead of hanging.
  await page.reload();
  await expect(page.getByTestId('storage-unavailable-reason')).toContainText('newer version of Fieldbook');
});

test('the list read from the stored snapshot shows every later edit, before and after the engine folds it in', async ({ page }) => {
  // 300 customers (one large write, with a snapshot); then an edit, a record of the log
  // beside it.
  const { list, storage, count } = await sampleBookInSnapshot(page, 300, 7);
  const [first] = await list.names();
  await list.openCustomer(first);
  const customer = new CustomerPage(page);
  await customer.setField('name', 'Renamed Right Before Reload');
  await customer.expectSaved();
  expect(await storage.count('summaries_log')).toBeGreaterThan(0);

  // A reload shows the list from the snapshot, with the rename and every customer.
  const expectRenamedFromSnapshot = async () => {
    await list.open();
    expect(await storage.listFromSnapshot()).toBe(true);
    await list.searchFor('Renamed Right Before Reload');
    await expect(list.rowNames).toHaveText(['Renamed Right Before Reload']);
    await list.searchFor('');
    await expect(list.resultCount).toHaveText(count);
  };
  // At once, before the engine makes a new snapshot: snapshot + the records written since.
  await expectRenamedFromSnapshot();
  // Once folded in: the snapshot alone, same book.
  await storage.waitSnapshotCurrent();
  await expectRenamedFromSnapshot();
});

test('an engine that reads the book the page already shows does not send it again, even when its read ends first; a book read at another data version it does', async ({ page }) => {
  const { list, count } = await sampleBookInSnapshot(page, 300, 9);
  const [first] = await list.names();
  await list.openCustomer(first);
  const customer = new CustomerPage(page);
  await customer.setField('name', 'Renamed Before The Engine Read');
  await customer.expectSaved();
  const heldAsRead = async () => {
    await page.waitForFunction(() => performance.getEntriesByName('fieldbook:book-built').length >= 1);
    // The engine has told the page its book (as held, or whole) once it is the writer.
    await expect.poll(async () => (await page.workers()[0]?.evaluate(() => performance.getEntriesByName('fieldbook:writer-ready').length)) ?? 0).toBe(1);
    return engineTotal(page, 'start: book as the page held it');
  };
  const expectWholeBook = async () => {
    await list.searchFor('Renamed Before The Engine Read');
    await expect(list.rowNames).toHaveText(['Renamed Before The Engine Read']);
    await list.searchFor('');
    await expect(list.resultCount).toHaveText(count);
  };

  // How index.html's read of the stored book reaches the page: as read, or (localStorage
  // `fieldbook-test-read`) made stale or late.
  await page.addInitScript(() => {
    const how = localStorage.getItem('fieldbook-test-read');
    if (!how) return;
    let stored: Promise<unknown> | undefined;
    Object.defineProperty(window, 'fieldbookStoredBook', {
      configurable: true,
      get: () => stored,
      set: (read: Promise<any>) => {
        stored = read.then((book) =>
          how === 'stale'
            ? book && book.snapshot ? { ...book, log: [], version: 'a-version-since-replaced' } : book
            : new Promise((resolve) => setTimeout(() => resolve(book), 1_500)),
        );
      },
    });
  });

  // index.html's read made stale (the rename's log record left out, another data version),
  // as if another tab's engine wrote between the page's read and this engine's: the engine
  // sends the whole book, which replaces the stale one. (At once after the rename, before
  // the engine folds its log record into the snapshot.)
  await page.evaluate(() => localStorage.setItem('fieldbook-test-read', 'stale'));
  await list.open();
  expect(await heldAsRead()).toBe(0);
  await expectWholeBook();

  // A plain reload: index.html reads the book and its data version, the engine the same.
  // The list drawn from index.html's read needs no engine: the engine's worker is started
  // only once the whole book is drawn, so its boot does not slow the list's start.
  await page.evaluate(() => localStorage.removeItem('fieldbook-test-read'));
  await list.open();
  expect(await heldAsRead()).toBe(1);
  const [built, spawned] = await page.evaluate(() =>
    ['fieldbook:book-built', 'fieldbook:engine-spawned'].map((name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN),
  );
  expect(spawned, 'the engine started after the whole book was drawn').toBeGreaterThan(built);
  await expectWholeBook();

  // index.html's read comes in late (a slow phone decoding a large book) on a start at
  // another screen than the list (the menu, beside the list on a tablet), whose engine
  // starts at once: the engine's own read ends first and waits for the page's word instead
  // of sending the book whole.
  await page.evaluate(() => localStorage.setItem('fieldbook-test-read', 'late'));
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.goto('/menu');
  await page.waitForFunction(() => performance.getEntriesByName('fieldbook:book-built').length >= 1);
  await expect.poll(() => engineTotal(page, 'start: book as the page held it')).toBe(1);
  expect(await engineTotal(page, 'start: read before the page said its book')).toBe(1);
  await expectWholeBook();
  await page.evaluate(() => localStorage.removeItem('fieldbook-test-read'));
});

test('a dashboard that read the facts from their log leaves a snapshot behind at once, so a short session still speeds up the next start', async ({ page, context }) => {
  const list = new CustomerListPage(page);
  const storage = new DeviceStorage(page);
  await list.open();
  await list.addSampleCustomers(30, 2);
  // The sample's facts folded into their snapshot (two seconds after the last write).
  await expect.poll(() => storage.count('facts_log'), { timeout: 15_000 }).toBe(0);
  // One edit that changes a customer's facts, then the tab closes before the engine folds
  // it in: the next start finds the facts' snapshot behind.
  await list.open();
  await list.rows.first().click();
  const customer = new CustomerPage(page);
  const stage = customer.field('stage');
  await stage.selectOption((await stage.inputValue()) === 'churned' ? 'loyal' : 'churned');
  await customer.expectSaved();
  expect(await storage.count('facts_log')).toBeGreaterThan(0);
  await page.close();

  // A short session: the dashboard reads every customer's facts (the snapshot and the log),
  // and the tab closes 600 ms after it shows, well before a start's one-second pause.
  const second = await context.newPage();
  await second.goto('/dashboard');
  await expect(second.getByTestId('dashboard-body')).toBeVisible();
  await second.waitForTimeout(600);
  await second.close();

  // No app on this page (no engine to fold anything in): what the short session left.
  const third = await context.newPage();
  await third.goto('/manifest.webmanifest');
  expect(await new DeviceStorage(third).count('facts_log')).toBe(0);
});

test('a snapshot this build cannot read is passed over and the whole book still shows', async ({ page }) => {
  const { list, storage, count } = await sampleBookInSnapshot(page, 40, 3);
  // As if written by another build: another fingerprint, then garbage.
  await storage.put('snapshots', 'summaries', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], true);
  await list.open();
  expect(await storage.listFromSnapshot()).toBe(false);
  await expect(list.resultCount).toHaveText(count);
  // The engine reads the snapshot's JSON copy instead, and a moment later writes a snapshot
  // this build reads (each look reloads the page, so give the engine time to write it).
  await expect
    .poll(
      async () => {
        await list.open();
        return storage.listFromSnapshot();
      },
      { timeout: 20_000, intervals: [2_500] },
    )
    .toBe(true);
  await expect(list.resultCount).toHaveText(count);
});

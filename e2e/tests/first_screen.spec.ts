import { expect, test, type Page } from '@playwright/test';
import { DeviceStorage, sampleBookInSnapshot } from './fixtures/device_storage';
import { firstScreenSeen, holdBookUntilFirstScreen } from './fixtures/held_start';

// A rep opening the app sees the top of her list before the whole book is read: the list's
// first screen, stored with every snapshot of the summaries (shared::search::first_screen).
// Each test holds the whole book's read back until that screen is drawn, so what it showed
// is seen on any machine, then lets the start go on.

/** A sample book of `n` customers, folded into the stored snapshot (and its first screen). */
async function storedBook(page: Page, n: number, seed: number) {
  const stored = await sampleBookInSnapshot(page, n, seed);
  await expect.poll(() => stored.storage.get('snapshots', 'summaries.first-screen')).toBeTruthy();
  return stored;
}

test('the first rows show before the whole book is read, and the whole book takes over', async ({ page }) => {
  const { list, count } = await storedBook(page, 300, 7);
  const shown = await list.names();
  await holdBookUntilFirstScreen(page, { tapFirstRow: true });
  await page.goto('/');
  const seen = await firstScreenSeen(page);
  // Drawn from the first screen: the whole book not read yet, the same first rows, the
  // book's count.
  expect(seen.ready).toBe('false');
  expect(seen.firstScreen).toBe('true');
  expect(seen.names.length).toBeGreaterThanOrEqual(10);
  expect(seen.names).toEqual(shown.slice(0, seen.names.length));
  expect(seen.count).toBe(count);
  // Its rows are links: the tap in that frame opened the customer.
  await expect(page.getByTestId('customer-heading')).toHaveText(shown[0], { timeout: 30_000 });
  await page.getByTestId('customer-page').getByTestId('back').click();
  await list.waitReady();
  await expect(page.getByTestId('customer-list')).toHaveAttribute('data-first-screen', 'false');
  expect(await list.names()).toEqual(shown);
  await expect(list.resultCount).toHaveText(count);
});

test('a search typed before the whole book is read waits for it, never answers from the first rows', async ({ page }) => {
  const { list, storage } = await storedBook(page, 300, 8);
  // A customer far below the first screen (48 rows): one of the last names.
  const target = (await storedSummaries(storage))
    .map(displayName)
    .filter((name) => /^[A-Za-z ]+$/.test(name))
    .sort()
    .pop()!;
  await list.searchFor(target);
  const found = await list.names();
  expect(found).toContain(target);
  await holdBookUntilFirstScreen(page, { typed: target });
  await page.goto('/');
  const seen = await firstScreenSeen(page, true);
  expect(seen.names).not.toContain(target);
  // Not "nothing found", not the first screen's rows: the list says it is still opening.
  expect(seen.afterTyping).toEqual({ names: [], opening: true });
  await list.waitReady();
  await expect(list.search).toHaveValue(target);
  expect(await list.names()).toEqual(found);
});

test('changes stored after the snapshot are laid over the first screen', async ({ page }) => {
  const { list, storage } = await storedBook(page, 200, 9);
  const shown = await list.names();
  // Two writes after the snapshot, as the engine logs them (a JSON array of summaries per
  // write): a customer from far down the list renamed to sort first, and the first one
  // archived.
  const summaries = await storedSummaries(storage);
  const byName = (name: string) => summaries.find((summary) => displayName(summary) === name)!;
  const renamed = { ...byName(shown[shown.length - 1]), name: 'Aaron Early' };
  const archived = { ...byName(shown[0]), archived: true };
  await storage.add('summaries_log', JSON.stringify([renamed]));
  await storage.add('summaries_log', JSON.stringify([archived]));
  await holdBookUntilFirstScreen(page);
  await page.goto('/');
  const seen = await firstScreenSeen(page);
  // The renamed customer first, the archived one gone, the rest in order.
  const expected = ['Aaron Early', ...shown.slice(1, shown.length - 1)];
  expect(seen.firstScreen).toBe('true');
  expect(seen.names.length).toBeGreaterThanOrEqual(expected.length);
  expect(seen.names.slice(0, expected.length)).toEqual(expected);
  // The log changed customers the first screen cannot count: no count rather than a wrong one.
  expect(seen.count).toBe('');
  // (The engine then finds these summaries do not match their documents and makes them
  // again: what the whole book shows afterwards is persistence.spec.ts's matter.)
  await list.waitReady();
});

interface StoredSummary {
  id: string;
  name: string;
  company: string;
  archived: boolean;
}

/** The stored summaries, as the snapshot's JSON copy holds them. */
async function storedSummaries(storage: DeviceStorage): Promise<StoredSummary[]> {
  return JSON.parse((await storage.get('snapshots', 'summaries.json')) as string);
}

/** The name the list shows for a customer (its company without a contact name). */
function displayName(summary: StoredSummary): string {
  return summary.name || summary.company;
}

test("a book stored by another build gets this build's first screen after a start", async ({ page }) => {
  const { list, storage } = await storedBook(page, 120, 10);
  const shown = await list.names();
  // As after an update: the stored first screen is another build's (its fingerprint differs).
  const otherBuild = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  await storage.put('snapshots', 'summaries.first-screen', otherBuild, true);
  await list.open();
  // The engine finds it stale at its start and writes the snapshot again, with a first screen.
  await expect.poll(() => storage.get('snapshots', 'summaries.first-screen'), { timeout: 15_000 }).not.toEqual(otherBuild);
  await holdBookUntilFirstScreen(page);
  await page.goto('/');
  const seen = await firstScreenSeen(page);
  expect(seen.firstScreen).toBe('true');
  expect(seen.names).toEqual(shown.slice(0, seen.names.length));
});

test('a long log of changes since the snapshot is parsed once: the whole book is drawn without a first screen', async ({ page }) => {
  const { list, storage } = await storedBook(page, 120, 11);
  const shown = await list.names();
  // As after a session closed during a download, before the snapshot folded it in: one
  // write's record of 400 summaries (~200 KB of JSON), each as stored.
  const summaries = await storedSummaries(storage);
  await storage.add('summaries_log', JSON.stringify(Array.from({ length: 400 }, (_, i) => summaries[i % summaries.length])));
  await holdBookUntilFirstScreen(page, { releaseAfterMs: 1500 });
  await page.goto('/');
  await list.waitReady();
  expect(await page.evaluate(() => performance.getEntriesByName('fieldbook:first-screen').length)).toBe(0);
  expect(await list.names()).toEqual(shown);
});

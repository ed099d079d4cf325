import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerRecords } from './fixtures/customer_records';
import { AccountPage } from './fixtures/account_page';
import { openDevice, tabletSize, uniqueEmail } from './fixtures/devices';
import { BooksMenu, TeamPage, openTerritory } from './fixtures/team_page';

// One connection per device (issue 21): every book a device keeps — her own, each
// territory — syncs over one WebSocket, held by one engine of the browser profile (the hub).
// When the tab holding it closes, an engine of another tab takes it over, and every book
// keeps syncing.

/** Engines (across every tab of the device) holding an open socket to the relay, by tab. */
async function openSockets(context: BrowserContext): Promise<Map<Page, number>> {
  const sockets = new Map<Page, number>();
  for (const page of context.pages()) {
    let n = 0;
    for (const worker of page.workers()) {
      if (await worker.evaluate(() => (self as any).fieldbookSocketOpen === true).catch(() => false)) n += 1;
    }
    sockets.set(page, n);
  }
  return sockets;
}

async function socketCount(context: BrowserContext): Promise<number> {
  let n = 0;
  for (const count of (await openSockets(context)).values()) n += count;
  return n;
}

test("every book of a device syncs over one socket, which another tab takes over when the holder's tab closes", async ({ browser, baseURL }) => {
  const admin = await openDevice(browser, baseURL, uniqueEmail('ada'), 'Ada tablet', false, tabletSize);
  const adminTeam = new TeamPage(admin.page);
  const team = `One socket ${Date.now()}`;
  await adminTeam.start(team, 'North');
  await adminTeam.addTerritory('East');
  const forRep = await adminTeam.invite('rep', ['North', 'East']);

  // Rita joins on her phone and stays in her own book; North and East are kept beside it.
  const repEmail = uniqueEmail('rita');
  const rep = await openDevice(browser, baseURL, repEmail, 'Rita phone', false);
  await new TeamPage(rep.page).join(forRep.code);
  const north = `${team} · North`;
  const east = `${team} · East`;
  const booksA = new BooksMenu(rep.page);
  await booksA.open();
  await expect(booksA.status(north)).toContainText('All changes backed up', { timeout: 20_000 });
  await expect(booksA.status(east)).toContainText('All changes backed up', { timeout: 20_000 });
  // Three books, three engines in the tab — one socket.
  expect(rep.page.workers().length).toBeGreaterThanOrEqual(3);
  await expect.poll(() => socketCount(rep.context)).toBe(1);

  // A second tab of the same browser: its engines follow the first tab's, still one socket,
  // held by the first tab.
  const tabB = await rep.context.newPage();
  await tabB.goto('/');
  const listB = new CustomerListPage(tabB);
  await listB.waitReady();
  const booksB = new BooksMenu(tabB);
  await booksB.open();
  await expect(booksB.status(north)).toContainText('All changes backed up', { timeout: 20_000 });
  await expect.poll(() => socketCount(rep.context)).toBe(1);
  expect((await openSockets(rep.context)).get(rep.page)).toBe(1);

  // The tab holding the socket closes: tab B's engines take over the books and the socket.
  await rep.page.close();
  await expect.poll(async () => (await openSockets(rep.context)).get(tabB), { timeout: 15_000 }).toBe(1);
  expect(await socketCount(rep.context)).toBe(1);

  // Every book still syncs both ways over it: the admin's new customer in North (with a
  // follow-up for Rita) reaches tab B's copy of North without her opening it; Rita's new
  // customer in her own book is backed up.
  await openTerritory(admin.page, team, 'North');
  await admin.list.addCustomer({ name: 'Nadia North', company: 'Nordic Ltd' });
  await admin.page.getByTestId('task-assignee').selectOption(repEmail);
  await new CustomerRecords(admin.page).addFollowUp('Call Nadia', '2026-01-05T09:00');
  await admin.account.expectBackedUp();
  await booksB.open();
  await expect(booksB.due(north)).toHaveText('1 follow-up due for you', { timeout: 20_000 });
  await expect(booksB.status(north)).toContainText('All changes backed up');
  await expect(booksB.status(east)).toContainText('All changes backed up');
  await tabB.goto('/');
  await listB.waitReady();
  await listB.addCustomer({ name: 'Olga Own', company: 'Mine GmbH' });
  await new AccountPage(tabB).expectBackedUp();
  expect(await socketCount(rep.context)).toBe(1);
  await tabB.screenshot({ path: 'test-results/one-connection-after-takeover-phone.png', fullPage: true });

  await rep.context.close();
  await admin.context.close();
});

import { expect, test } from '@playwright/test';
import { axeViolations } from './fixtures/axe';
import { CustomerPage } from './fixtures/customer_page';
import { CustomerRecords } from './fixtures/customer_records';
import { goOffline, openDevice, tabletSize, uniqueEmail } from './fixtures/devices';
import { BooksMenu, TeamPage, openTerritory } from './fixtures/team_page';

// A rep's other books stay in sync while she works in one (issue 21): her territories
// download in the background from the moment she joins, without her opening them, so she
// finds them complete offline; her follow-ups there are counted in the menu; a territory she
// is removed from is forgotten on the device, unless it holds changes never backed up.
test("a rep's territories download while she stays in her own book; removal forgets them or holds unsent changes", async ({ browser, baseURL }) => {
  const admin = await openDevice(browser, baseURL, uniqueEmail('ada'), 'Ada tablet', false, tabletSize);
  const adminTeam = new TeamPage(admin.page);
  const team = `Acme ${Date.now()}`;
  await adminTeam.start(team, 'North');
  await adminTeam.addTerritory('East');
  const forRep = await adminTeam.invite('rep', ['North', 'East']);

  // Rita joins and stays in her own book: she never opens North or East.
  const repEmail = uniqueEmail('rita');
  const rep = await openDevice(browser, baseURL, repEmail, 'Rita phone', false, undefined, { bypassCSP: true });
  await new TeamPage(rep.page).join(forRep.code);
  await rep.list.open();
  await rep.list.addCustomer({ name: 'Olga Own', company: 'Mine GmbH' });
  await rep.account.expectBackedUp();

  // The admin adds Nora in North with an overdue follow-up for Rita.
  await openTerritory(admin.page, team, 'North');
  await admin.list.addCustomer({ name: 'Nora North', company: 'Nordic Ltd' });
  await admin.page.getByTestId('task-assignee').selectOption(repEmail);
  await new CustomerRecords(admin.page).addFollowUp('Call Nora about the renewal', '2026-01-05T09:00');
  await admin.account.expectBackedUp();
  // The admin's tab shows North; her own book is kept in sync beside it.
  const adminBooks = new BooksMenu(admin.page);
  await adminBooks.open();
  await expect(admin.page.getByTestId('current-book')).toHaveText(`${team} · North`);
  await expect(admin.page.getByTestId('own-book').getByTestId('book-status')).toContainText('All changes backed up', { timeout: 20_000 });
  await admin.page.screenshot({ path: 'test-results/other-books-menu-tablet.png', fullPage: true });

  // Rita's menu: both territories kept and backed up, her follow-up counted where she is.
  const books = new BooksMenu(rep.page);
  const north = `${team} · North`;
  const east = `${team} · East`;
  await books.open();
  await expect(rep.page.getByTestId('current-book')).toHaveText('Your own book');
  await expect(books.status(north)).toContainText('All changes backed up', { timeout: 20_000 });
  await expect(books.status(east)).toContainText('All changes backed up');
  await expect(books.due(north)).toHaveText('1 follow-up due for you', { timeout: 20_000 });
  await expect(books.due(east)).toHaveCount(0);
  await rep.page.screenshot({ path: 'test-results/other-books-menu-phone.png', fullPage: true });

  // Right after a restart she opens the menu before the other books' engines start by
  // themselves: the menu starts them — and still renders (a new root owner once made the
  // rest of the menu lose the router: a panic) — and leaving it breaks nothing they report
  // later.
  const panics: string[] = [];
  rep.page.on('pageerror', (error) => panics.push(error.message));
  rep.page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('panicked')) panics.push(message.text());
  });
  await rep.page.goto('/');
  await expect(rep.page.getByTestId('sync-status')).toHaveAttribute('data-phase', 'synced');
  await rep.page.getByTestId('open-menu').click();
  await expect(books.status(north)).toContainText('All changes backed up', { timeout: 20_000 });
  await rep.page.getByTestId('back').click();
  await rep.list.waitReady();
  await admin.page.goto('/');
  await admin.list.waitReady();
  await admin.list.addCustomer({ name: 'Nils North', company: 'Nordic Ltd' });
  await admin.account.expectBackedUp();
  await rep.page.getByTestId('open-menu').click();
  await expect(books.status(north)).toContainText('All changes backed up', { timeout: 20_000 });
  await expect(books.due(north)).toHaveText('1 follow-up due for you');
  expect(panics).toEqual([]);

  // Offline, she opens North for the first time: Nora, Nils and her follow-up are there.
  await goOffline(rep);
  await books.openBook(north);
  await expect(rep.list.rowNames).toHaveText(['Nils North', 'Nora North']);
  await rep.page.goto('/follow-ups');
  await expect(rep.page.getByTestId('follow-up-title')).toHaveText(['Call Nora about the renewal']);
  // ...edits Nora (never backed up: offline), and goes back to her own book.
  await rep.list.open();
  await rep.list.openCustomer('Nora North');
  const nora = new CustomerPage(rep.page);
  await nora.setField('job_title', 'Buyer (offline)');
  await nora.expectSaved();
  await books.open();
  await books.openOwn();
  await expect(rep.list.rowNames).toHaveText(['Olga Own']);

  // Team dashboard figures kept on her device: one counted East, one did not.
  const eastDatabase = await rep.page.evaluate(() => {
    const known: { territory: string; territory_name: string }[] = JSON.parse(localStorage.getItem('fieldbook-books') ?? '[]');
    return `fieldbook-${known.find((book) => book.territory_name === 'East')!.territory}`;
  });
  await rep.page.evaluate(([db, email]) => {
    const kept = (team: string, versions: [string, string][]) => ({ team, kind: 'Month', key: { versions }, figures: {} });
    localStorage.setItem('fieldbook-team-figures', JSON.stringify([email, [kept('with-east', [['fieldbook-other', 'v1'], [db, 'v2']]), kept('without', [['fieldbook-other', 'v1']])]]));
  }, [eastDatabase, repEmail]);

  // The admin removes her from the team; she comes back online in her own book.
  await adminTeam.openTeam(team);
  await adminTeam.remove(repEmail);
  await rep.context.setOffline(false);
  await books.open();
  // East held nothing unsent: its copy is removed and the book forgotten here...
  await expect(books.book(east)).toHaveCount(0, { timeout: 20_000 });
  // ...North keeps her edit, says why and what to do.
  await expect(books.status(north)).toContainText(`no longer belongs to ${team} · North`, { timeout: 20_000 });
  await expect(books.status(north)).toContainText('1 change was never backed up: open it to export them.');
  await expect(books.due(north)).toHaveCount(0);
  // The figures that counted East went with it.
  const keptTeams = await rep.page.evaluate(() => JSON.parse(localStorage.getItem('fieldbook-team-figures') ?? '[]')[1]?.map((entry: { team: string }) => entry.team));
  expect(keptTeams).toEqual(['without']);
  await rep.page.screenshot({ path: 'test-results/other-books-removed-phone.png', fullPage: true });
  expect(await axeViolations(rep.page)).toEqual([]);
  // Her own book is untouched.
  await rep.page.goto('/');
  await expect(rep.list.rowNames).toHaveText(['Olga Own']);

  for (const device of [admin, rep]) {
    await device.context.close();
  }
});

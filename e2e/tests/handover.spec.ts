import { expect, test } from '@playwright/test';
import { CustomerPage } from './fixtures/customer_page';
import { DeviceStorage } from './fixtures/device_storage';
import { goOffline, openDevice, tabletSize, uniqueEmail } from './fixtures/devices';
import { TeamPage, moveShown, openTerritory } from './fixtures/team_page';

// Handover while offline (issue 21), with four people on four devices: the admin's team
// has North and South; a manager moves two of North's customers to South while the rep of
// North edits them offline. Her edits follow the customers to South, where the rep of South
// sees them; her device forgets them and tells her so; nothing of hers is lost.
test('a manager moves customers to another territory while a rep edits them offline: her edits go with them', async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const admin = await openDevice(browser, baseURL, uniqueEmail('ada'), 'Ada tablet', false, tabletSize);
  const adminTeam = new TeamPage(admin.page);
  const team = `Handover ${Date.now()}`;
  const { forManager, forNorth: forRita, forSouth: forRob } = await adminTeam.startNorthAndSouth(team);
  await openTerritory(admin.page, team, 'North');
  for (const name of ['Ana Mover', 'Ben Mover', 'Cy Stayer']) {
    await admin.list.open();
    await admin.list.addCustomer({ name, company: `${name.split(' ')[0]} GmbH` });
  }
  await admin.account.expectBackedUp();

  // Rita, the rep of North, has the three; offline on a trade-show floor, she edits two.
  const rita = await openDevice(browser, baseURL, uniqueEmail('rita'), 'Rita phone', false);
  await new TeamPage(rita.page).join(forRita.code);
  await openTerritory(rita.page, team, 'North');
  await expect(rita.list.rowNames).toHaveText(['Ana Mover', 'Ben Mover', 'Cy Stayer']);
  await goOffline(rita);
  const onRita = new CustomerPage(rita.page);
  await rita.list.openCustomer('Ana Mover');
  await onRita.setField('job_title', 'Head buyer (met at the fair)');
  await onRita.expectSaved();
  await rita.list.open();
  await rita.list.openCustomer('Ben Mover');
  await onRita.setField('company', 'Ben Offline GmbH');
  await onRita.expectSaved();
  await rita.list.open();

  // Meanwhile the manager gives the Movers to South.
  const max = await openDevice(browser, baseURL, uniqueEmail('max'), 'Max tablet', false, tabletSize);
  await new TeamPage(max.page).join(forManager.code);
  await openTerritory(max.page, team, 'North');
  await expect(max.list.rowNames).toHaveText(['Ana Mover', 'Ben Mover', 'Cy Stayer']);
  await max.list.searchFor('Mover');
  await expect(max.list.rowNames).toHaveText(['Ana Mover', 'Ben Mover']);
  // Her two edits still wait on her phone: a push before the move would let the move carry
  // them (each page load starts an engine, which must take the page's word that it is
  // offline, not its worker's own `navigator.onLine`).
  await expect(rita.page.getByTestId('sync-status')).toHaveAttribute('data-phase', 'offline');
  await expect(rita.page.getByTestId('sync-status')).toHaveAttribute('data-unsent', '2');
  await moveShown(max.page, 'South', 2, 'test-results/handover-move-tablet.png');
  await max.list.searchFor('');
  await expect(max.list.rowNames).toHaveText(['Cy Stayer'], { timeout: 15_000 });
  await expect(max.page.getByTestId('moved-notice')).toHaveText(/2 customers moved to another territory\./);
  await max.page.screenshot({ path: 'test-results/handover-moved-tablet.png', fullPage: true });

  // Rita is back online: her two edits went with the customers, and she is told.
  await rita.context.setOffline(false);
  await expect(rita.page.getByTestId('moved-notice')).toContainText(
    '2 customers moved to another territory; your 2 edits went with them.',
    { timeout: 20_000 },
  );
  await expect(rita.list.rowNames).toHaveText(['Cy Stayer']);
  await rita.account.expectBackedUp();
  await rita.page.screenshot({ path: 'test-results/handover-rep-phone.png', fullPage: true });

  // Rob, the rep of South, has them with Rita's offline edits.
  const rob = await openDevice(browser, baseURL, uniqueEmail('rob'), 'Rob phone', false);
  await new TeamPage(rob.page).join(forRob.code);
  await openTerritory(rob.page, team, 'South');
  await expect(rob.list.rowNames).toHaveText(['Ana Mover', 'Ben Mover']);
  await rob.list.openCustomer('Ana Mover');
  const onRob = new CustomerPage(rob.page);
  await expect(onRob.field('job_title')).toHaveValue('Head buyer (met at the fair)');
  await rob.list.open();
  await rob.list.openCustomer('Ben Mover');
  await expect(onRob.field('company')).toHaveValue('Ben Offline GmbH');

  // Rita dismisses the notice; it stays dismissed after a reload.
  await rita.page.getByTestId('dismiss-moved').click();
  await expect(rita.page.getByTestId('moved-notice')).toHaveCount(0);
  await rita.page.reload();
  await rita.list.waitReady();
  await expect(rita.list.rowNames).toHaveText(['Cy Stayer']);
  await expect(rita.page.getByTestId('moved-notice')).toHaveCount(0);
  // Her device keeps the Movers' documents out of the list (she edited them around the
  // move): the start's check of the list against the stored documents leaves them out.
  await new DeviceStorage(rita.page).waitProjectionsChecked();
  await expect(rita.list.rowNames).toHaveText(['Cy Stayer']);
  // A rep cannot move customers: the action is not offered.
  await expect(rita.page.getByTestId('move-shown')).toHaveCount(0);

  // Quick capture asks which book a lead goes to, and remembers it: her own book.
  await rita.page.getByTestId('quick-capture').click();
  const leadsGoTo = rita.page.getByTestId('capture-book');
  await expect(leadsGoTo.locator('option:checked')).toHaveText(`${team} · North`);
  await leadsGoTo.selectOption({ label: 'My own book' });
  await expect(rita.page.getByTestId('capture-page')).toBeVisible();
  await expect(leadsGoTo.locator('option:checked')).toHaveText('My own book');
  await rita.page.screenshot({ path: 'test-results/handover-capture-book-phone.png', fullPage: true });
  await rita.page.getByTestId('capture-name').fill('Lee Lead');
  await rita.page.getByTestId('capture-save').click();
  await expect(rita.page.getByTestId('capture-saved')).toHaveText('Saved on this device: Lee Lead');
  // From North, "+ Lead" goes to her own book again; the lead is there, not in North.
  await rita.page.goto('/menu');
  await rita.page.getByTestId('known-book').filter({ hasText: 'North' }).getByTestId('open-book').click();
  await rita.list.waitReady();
  await expect(rita.list.rowNames).toHaveText(['Cy Stayer']);
  await rita.page.getByTestId('quick-capture').click();
  await expect(rita.page.getByTestId('capture-page')).toBeVisible();
  await expect(leadsGoTo.locator('option:checked')).toHaveText('My own book');
  await rita.page.goto('/');
  await rita.list.waitReady();
  await expect(rita.list.rowNames).toHaveText(['Lee Lead']);
  await expect(rita.page.getByTestId('book-title')).toHaveCount(0);

  for (const device of [admin, rita, max, rob]) {
    await device.context.close();
  }
});

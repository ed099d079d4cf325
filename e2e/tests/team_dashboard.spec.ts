import { expect, test } from '@playwright/test';
import { axeViolations } from './fixtures/axe';
import { goOffline, openDevice, tabletSize, uniqueEmail } from './fixtures/devices';
import { TeamDashboardPage, TeamPage, openTerritory } from './fixtures/team_page';

// The team dashboard (issue 21), with four people: the admin's team has North and South; a
// rep in each adds customers; the manager, whose device never opened a territory, sees the
// team, each territory and each rep — and a customer added in the field while she looks.
test('a manager sees the team, each territory and each rep, live; a rep is not offered it', async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const adaEmail = uniqueEmail('ada');
  const ritaEmail = uniqueEmail('rita');
  const robEmail = uniqueEmail('rob');
  const admin = await openDevice(browser, baseURL, adaEmail, 'Ada tablet', false, tabletSize);
  const adminTeam = new TeamPage(admin.page);
  const team = `Dashboard ${Date.now()}`;
  const { forManager, forNorth: forRita, forSouth: forRob } = await adminTeam.startNorthAndSouth(team);
  await openTerritory(admin.page, team, 'North');
  await admin.list.addCustomer({ name: 'Nia North', company: 'Nia AG' });
  await admin.account.expectBackedUp();

  const rita = await openDevice(browser, baseURL, ritaEmail, 'Rita phone', false);
  await new TeamPage(rita.page).join(forRita.code);
  await openTerritory(rita.page, team, 'North');
  for (const name of ['Rae Lead', 'Ray Lead']) {
    await rita.list.open();
    await rita.list.addCustomer({ name, company: `${name.split(' ')[0]} GmbH` });
  }
  await rita.account.expectBackedUp();

  const rob = await openDevice(browser, baseURL, robEmail, 'Rob phone', false);
  await new TeamPage(rob.page).join(forRob.code);
  await openTerritory(rob.page, team, 'South');
  await rob.list.addCustomer({ name: 'Sol South', company: 'Sol SA' });
  await rob.account.expectBackedUp();

  // Max, the manager, on a tablet that never opened a territory: the dashboard downloads
  // both and counts them.
  const max = await openDevice(browser, baseURL, uniqueEmail('max'), 'Max tablet', false, tabletSize, { bypassCSP: true });
  await new TeamPage(max.page).join(forManager.code);
  const dashboard = new TeamDashboardPage(max.page);
  await dashboard.open(team);
  await dashboard.waitTerritoriesSynced(2);
  await expect(dashboard.teamFigure('team-customers')).toHaveText('4', { timeout: 15_000 });
  await expect(dashboard.territories.locator('strong')).toHaveText(['North', 'South']);
  await expect(dashboard.figure(dashboard.territory('North'), 'customers')).toHaveText('3');
  await expect(dashboard.figure(dashboard.territory('South'), 'customers')).toHaveText('1');
  await expect(dashboard.reps.locator('strong')).toHaveText([adaEmail, ritaEmail, robEmail].sort());
  await expect(dashboard.figure(dashboard.rep(ritaEmail), 'customers')).toHaveText('2');
  await expect(dashboard.figure(dashboard.rep(robEmail), 'customers')).toHaveText('1');
  await expect(dashboard.figure(dashboard.rep(adaEmail), 'customers')).toHaveText('1');
  // Added this quarter as leads: captured leads, per rep too.
  await expect(dashboard.teamFigure('team-leads')).toHaveText('4');
  await expect(dashboard.figure(dashboard.rep(ritaEmail), 'leads')).toHaveText('2');
  // One engine per territory keeps it in sync while the dashboard is open.
  expect(max.page.workers().length).toBe(3);
  // (axe is injected: this context bypasses the CSP.)
  expect(await axeViolations(max.page)).toEqual([]);
  await max.page.screenshot({ path: 'test-results/team-dashboard-tablet.png', fullPage: true });

  // Rob adds a customer in the field; Max's dashboard counts it without a reload.
  await rob.list.open();
  await rob.list.addCustomer({ name: 'Sam South', company: 'Sam SA' });
  await rob.account.expectBackedUp();
  await expect(dashboard.teamFigure('team-customers')).toHaveText('5', { timeout: 15_000 });
  await expect(dashboard.figure(dashboard.territory('South'), 'customers')).toHaveText('2');
  await expect(dashboard.figure(dashboard.rep(robEmail), 'customers')).toHaveText('2');
  // The year shows the same customers (all added today).
  await max.page.getByTestId('team-period-year').click();
  await expect(max.page.getByTestId('team-period-label')).toContainText(String(new Date().getFullYear()));
  await expect(dashboard.teamFigure('team-customers')).toHaveText('5');
  await max.page.setViewportSize({ width: 390, height: 844 });
  await max.page.screenshot({ path: 'test-results/team-dashboard-phone.png', fullPage: true });

  // Leaving the dashboard stops the territories' engines.
  await max.page.getByTestId('back').click();
  await expect(max.page.getByTestId('team-title')).toHaveText(team);
  await expect.poll(() => max.page.workers().length, { timeout: 10_000 }).toBe(1);

  // Offline (at an event), after a reload: the team as last listed on this device, the
  // figures from the territories' copies here.
  await goOffline(max);
  await max.page.goto(`${new URL(max.page.url()).pathname}/dashboard`);
  await expect(dashboard.teamFigure('team-customers')).toHaveText('5', { timeout: 15_000 });
  await expect(dashboard.figure(dashboard.territory('South'), 'customers')).toHaveText('2');
  await expect(dashboard.territory('North')).toHaveAttribute('data-copy', 'offline', { timeout: 15_000 });
  await max.page.screenshot({ path: 'test-results/team-dashboard-offline-phone.png', fullPage: true });
  // The figures are kept on the device with each territory's data version, and shown again
  // only while those versions hold. Still offline, Max adds a customer in North himself:
  // North's version changed, so the dashboard computes and counts it at once.
  const dashboardPath = new URL(max.page.url()).pathname;
  await openTerritory(max.page, team, 'North');
  await max.list.addCustomer({ name: 'Mo North', company: 'Mo Oy' });
  await max.page.goto(dashboardPath);
  await expect(dashboard.teamFigure('team-customers')).toHaveText('6', { timeout: 15_000 });
  await expect(dashboard.figure(dashboard.territory('North'), 'customers')).toHaveText('4');
  // Back in his own book, a reload shows the same figures (kept, still current).
  await max.page.goto('/');
  await max.list.waitReady();
  await max.page.goto(dashboardPath);
  await expect(dashboard.teamFigure('team-customers')).toHaveText('6', { timeout: 15_000 });
  await max.context.setOffline(false);
  await max.page.getByTestId('back').click();
  await expect(max.page.getByTestId('team-title')).toHaveText(team);

  // A rep is not offered the team dashboard, and is told so at its address.
  const ritaTeam = new TeamPage(rita.page);
  await ritaTeam.openTeam(team);
  await expect(rita.page.getByTestId('team-dashboard-link')).toHaveCount(0);
  const url = new URL(max.page.url());
  await rita.page.goto(`${url.pathname}/dashboard`);
  await expect(rita.page.getByTestId('team-dashboard-managers-only')).toBeVisible();

  for (const device of [admin, rita, rob, max]) {
    await device.context.close();
  }
});

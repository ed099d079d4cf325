import { expect, test } from '@playwright/test';
import { openDevice, tabletSize, uniqueEmail } from './fixtures/devices';
import { TeamPage } from './fixtures/team_page';
import { axeViolations } from './fixtures/axe';

// Teams (issue 21), the membership part: an admin starts a team with territories, invites a
// manager by link and two reps and a viewer by code read aloud, sees each arrive with the
// territories given, changes a role and removes a member; refused invites say why.
test('an admin starts a team, colleagues join by code or link with their territories, roles change and a member is removed', async ({ browser, baseURL }) => {
  // A long story over several signed-in devices (18-27 s on a quiet machine, 54 s on a
  // throttled one): more room than the default minute, which it filled there.
  test.setTimeout(120_000);
  // axe is injected as a script: these two devices bypass the CSP.
  const admin = await openDevice(browser, baseURL, uniqueEmail('ada'), 'Ada tablet', false, tabletSize, { bypassCSP: true });
  const team = new TeamPage(admin.page);
  const name = `Acme field sales ${Date.now()}`;
  await team.start(name, 'North');
  await team.addTerritory('South');
  await expect(admin.page.getByTestId('my-role')).toHaveText('Admin');
  await expect(team.territories).toHaveText([/North/, /South/]);

  // A manager by link (the secret in the fragment).
  const forManager = await team.invite('manager', []);
  await admin.page.screenshot({ path: 'test-results/team-invite-tablet.png', fullPage: true });
  expect(forManager.link).toMatch(/\/join#[0-9a-f]{64}$/);
  const managerEmail = uniqueEmail('max');
  const manager = await openDevice(browser, baseURL, managerEmail, 'Max phone', false);
  await manager.page.goto(forManager.link.replace(/^https?:\/\/[^/]+/, ''));
  await manager.page.getByTestId('join-link').click();
  await expect(manager.page.getByTestId('joined')).toContainText(`You joined ${name} as manager`);

  // A rep of North by code, typed as it was read aloud.
  const forRep = await team.invite('rep', ['North']);
  const repEmail = uniqueEmail('rita');
  const rep = await openDevice(browser, baseURL, repEmail, 'Rita phone', false, undefined, { bypassCSP: true });
  const repTeam = new TeamPage(rep.page);
  await repTeam.joinByCode(forRep.code.toLowerCase().replace('-', ' '));
  await expect(rep.page.getByTestId('joined')).toContainText(`You joined ${name} as rep`);
  await rep.page.getByTestId('joined-open').click();
  await expect(rep.page.getByTestId('my-role')).toHaveText('Rep');
  await expect(repTeam.territories, 'a rep is sent only her territory').toHaveText([/North\s*can edit/]);
  await expect(rep.page.getByTestId('shared-read-only')).toBeVisible();
  await expect(rep.page.getByTestId('invites'), 'only admins invite').toHaveCount(0);
  await rep.page.screenshot({ path: 'test-results/team-rep-phone.png', fullPage: true });
  expect(await axeViolations(rep.page), 'the team screen at phone size').toEqual([]);
  await repTeam.open();
  expect(await axeViolations(rep.page), 'the teams screen at phone size').toEqual([]);

  // The same code again, by someone else: used up, said plainly.
  const late = await openDevice(browser, baseURL, uniqueEmail('late'), 'Late phone', false);
  const lateTeam = new TeamPage(late.page);
  await lateTeam.joinByCode(forRep.code);
  await expect(late.page.getByTestId('join-error')).toHaveText('This invite was already used. Ask for a new one.');
  await lateTeam.joinByCode('K7QM4-XPD2R');
  await expect(late.page.getByTestId('join-error')).toContainText('No invite has this code');
  await lateTeam.joinByCode('hello');
  await expect(late.page.getByTestId('join-error')).toContainText('10 letters and digits');

  // A viewer of South, with an invite for three that the admin then withdraws.
  const forViewer = await team.invite('viewer', ['South']);
  const viewerEmail = uniqueEmail('vic');
  const viewer = await openDevice(browser, baseURL, viewerEmail, 'Vic phone', false);
  await new TeamPage(viewer.page).joinByCode(forViewer.code);
  await expect(viewer.page.getByTestId('joined')).toContainText('as viewer');
  await admin.page.getByTestId('invite-uses').selectOption('5');
  const withdrawn = await team.invite('rep', ['South']);
  await expect(team.invites.filter({ hasText: 'open until' })).toHaveCount(1);
  await team.invites.filter({ hasText: 'open until' }).getByTestId('revoke-invite').click();
  await expect(team.invites.filter({ hasText: 'withdrawn' })).toHaveCount(1);
  await lateTeam.joinByCode(withdrawn.code);
  await expect(late.page.getByTestId('join-error')).toHaveText('This invite was withdrawn. Ask for a new one.');

  // The admin sees everyone with their territories, makes the viewer a rep, removes the late
  // colleague... who never joined, and the manager.
  await admin.page.reload();
  await expect(team.members).toHaveCount(4);
  await expect(team.member(repEmail)).toContainText('Rep · North');
  await expect(team.member(viewerEmail)).toContainText('Viewer · South');
  await expect(team.member(managerEmail)).toContainText('Manager · every territory');
  await team.setRole(viewerEmail, 'rep');
  await expect(team.member(viewerEmail)).toContainText('Rep · South');
  await team.remove(managerEmail);
  await expect(team.members).toHaveCount(3);
  // The last admin cannot step down.
  await team.setRole(await admin.account.page.getByTestId('member').filter({ hasText: 'you' }).getAttribute('data-email') ?? '', 'rep');
  await expect(admin.page.getByTestId('member-error')).toHaveText('A team needs at least one admin: make someone else admin first.');
  await expect(admin.page.getByTestId('member').filter({ hasText: 'you' }).getByTestId('member-role'), 'the refused change is undone on screen').toHaveValue('admin');
  await admin.page.screenshot({ path: 'test-results/team-members-tablet.png', fullPage: true });
  expect(await axeViolations(admin.page), 'the team screen of an admin at tablet size').toEqual([]);

  // The removed manager's team list no longer has it.
  await new TeamPage(manager.page).open();
  await expect(manager.page.getByTestId('no-teams')).toBeVisible();
  for (const device of [admin, manager, rep, late, viewer]) {
    await device.context.close();
  }
});

test('teams need an account: a device that is not signed in is sent to sign in', async ({ page }) => {
  const team = new TeamPage(page);
  await team.open();
  await expect(page.getByTestId('team-sign-in-first')).toBeVisible();
  await page.getByTestId('team-go-sign-in').click();
  await expect(page.getByTestId('account-page')).toBeVisible();
});

import { expect, test } from '@playwright/test';
import { CustomerPage } from './fixtures/customer_page';
import { FieldsPage } from './fixtures/fields_page';
import { ProductsPage } from './fixtures/sales';
import { goOffline, twoDevices } from './fixtures/devices';
import { TeamPage, openTerritory } from './fixtures/team_page';

// A rep makes a team from her book (issue 21): she starts a team and moves her own book's
// customers into its territory from her list; her devices drop them from her own book and
// say where they went; an edit her tablet made offline meanwhile follows them into the
// territory.
test('a rep starts a team from her book: her customers move into its territory, her offline edit follows', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  await phone.list.open();
  await phone.list.addCustomers([
    { name: 'Olga Own', company: 'Mine GmbH' },
    { name: 'Otto Own', company: 'Otto KG' },
  ]);
  // Her catalog and fields.
  const products = new ProductsPage(phone.page);
  await products.open();
  await products.add('Widget Pro', '49.00');
  const fields = new FieldsPage(phone.page);
  await fields.open();
  await fields.define({ name: 'Trade show', kind: 'text' });
  await phone.account.expectBackedUp();
  await tablet.list.open();
  await expect(tablet.list.rowNames).toHaveText(['Olga Own', 'Otto Own'], { timeout: 20_000 });

  // Her tablet edits Otto offline.
  await goOffline(tablet);
  await tablet.list.openCustomer('Otto Own');
  const otto = new CustomerPage(tablet.page);
  await otto.setField('job_title', 'Buyer (tablet, offline)');
  await otto.expectSaved();

  // Without a team, her list offers no move; she starts one.
  await phone.list.open();
  await expect(phone.page.getByTestId('move-shown')).toHaveCount(0);
  const team = `Rita's team ${Date.now()}`;
  await new TeamPage(phone.page).start(team, 'North');
  await phone.list.open();
  await expect(phone.page.getByTestId('move-shown')).toHaveText('Move these 2 into a team…');
  await phone.page.getByTestId('move-shown').click();
  const panel = phone.page.getByTestId('move-panel');
  await panel.getByTestId('move-target').selectOption({ label: `${team} · North` });
  await expect(panel.getByTestId('move-bring-settings')).toBeChecked();
  await phone.page.screenshot({ path: 'test-results/team-from-book-phone.png', fullPage: true });
  await panel.getByTestId('move-confirm').click();
  await expect(phone.page.getByTestId('move-done')).toHaveText(
    `Moved 2 customers to ${team} · North. Your catalog, pipeline and fields are the team's too.`,
    { timeout: 30_000 },
  );
  await expect(phone.list.rowNames).toHaveCount(0, { timeout: 20_000 });
  await expect(phone.page.getByTestId('moved-notice')).toContainText('2 customers moved to a team territory.');

  // The tablet comes back: its own book drops them too, and its edit went with Otto.
  await tablet.context.setOffline(false);
  await tablet.list.open();
  await expect(tablet.list.rowNames).toHaveCount(0, { timeout: 20_000 });
  await expect(tablet.page.getByTestId('moved-notice')).toContainText('2 customers moved to a team territory; your edit went with');
  await tablet.account.expectBackedUp();

  // In North: both, with the tablet's edit.
  await openTerritory(phone.page, team, 'North');
  await expect(phone.list.rowNames).toHaveText(['Olga Own', 'Otto Own']);
  await phone.list.openCustomer('Otto Own');
  await expect(new CustomerPage(phone.page).field('job_title')).toHaveValue('Buyer (tablet, offline)', { timeout: 20_000 });

  // ...and her catalog and fields are the team's.
  await products.open();
  await expect(products.products.filter({ hasText: 'Widget Pro' })).toHaveCount(1);
  await fields.open();
  await expect(fields.definition('Trade show')).toHaveCount(1);

  for (const device of [phone, tablet]) {
    await device.context.close();
  }
});

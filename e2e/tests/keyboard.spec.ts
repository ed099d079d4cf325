import { expect, test, type Page } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { openDevice, tabletSize, uniqueEmail } from './fixtures/devices';
import { BooksMenu, TeamPage } from './fixtures/team_page';

// The rep's main tasks with the keyboard alone (a keyboard, a switch, a screen reader's
// navigation): no mouse, no touch. (Survey mode: feedback.spec.ts.)
test.use({ viewport: { width: 390, height: 844 } });

/** Presses Tab until the element with `testid` has the focus (at most `max` times). */
async function tabTo(page: Page, testid: string, max = 40) {
  for (let i = 0; i < max; i++) {
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    if (focused === testid) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${testid} not reached in ${max} tabs`);
}

test('a customer is added with the keyboard alone, and the focus follows', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  // The round "+" comes early in the tab order.
  await tabTo(page, 'add-customer', 10);
  await page.keyboard.press('Enter');
  // The form opens with the focus in its first field.
  await expect(page.getByTestId('new-name')).toBeFocused();
  await page.keyboard.type('Kay Board');
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('new-company')).toBeFocused();
  await page.keyboard.type('Keys & Co');
  await page.keyboard.press('Enter');
  // Saved: the focus is on the new customer's heading, not lost on the page.
  await expect(page.getByTestId('customer-heading')).toHaveText('Kay Board');
  await expect(page.getByTestId('customer-heading')).toBeFocused();
});

test('an activity is logged with the keyboard alone', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Lou Keys' });
  await page.getByTestId('customer-heading').focus();
  await tabTo(page, 'log-call');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('log-call')).toHaveAttribute('aria-pressed', 'true');
  await tabTo(page, 'activity-summary');
  await page.keyboard.type('Asked for the spring catalogue');
  await tabTo(page, 'activity-save');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('timeline')).toContainText('Asked for the spring catalogue');
});

test('a lead is captured with the keyboard alone', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await tabTo(page, 'quick-capture', 10);
  await page.keyboard.press('Enter');
  // Quick capture opens with Name focused, ready to type.
  await expect(page.getByTestId('capture-name')).toBeFocused();
  await page.keyboard.type('Lea Lead');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Booth Co');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('capture-saved')).toContainText('Lea Lead');
  // Ready for the next visitor: Name has the focus again.
  await expect(page.getByTestId('capture-name')).toBeFocused();
});

test('a rep goes from her own book to her territory and back with the keyboard alone', async ({ browser, baseURL }) => {
  const admin = await openDevice(browser, baseURL, uniqueEmail('kb-admin'), 'Admin tablet', false, tabletSize);
  const adminTeam = new TeamPage(admin.page);
  const team = `Keys ${Date.now()}`;
  await adminTeam.start(team, 'North');
  const invite = await adminTeam.invite('rep', ['North']);
  await admin.context.close();
  const rep = await openDevice(browser, baseURL, uniqueEmail('kb-rep'), 'Rep phone', false);
  await new TeamPage(rep.page).join(invite.code);
  const page = rep.page;
  await rep.list.open();
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  // Menu → Book: her territory, kept in sync in the background, opened with Enter.
  await tabTo(page, 'open-menu', 15);
  await page.keyboard.press('Enter');
  const books = new BooksMenu(page);
  await expect(books.status(`${team} · North`)).toContainText('All changes backed up', { timeout: 20_000 });
  await tabTo(page, 'open-book');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('book-title')).toHaveText(`${team} · North`);
  await expect(page.getByTestId('customer-list')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 });
  // And back to her own book the same way.
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await tabTo(page, 'open-menu', 15);
  await page.keyboard.press('Enter');
  await tabTo(page, 'open-own-book');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('customer-list')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 });
  await expect(page.getByTestId('book-title')).toHaveCount(0);
  await rep.context.close();
});

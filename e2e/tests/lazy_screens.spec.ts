import { expect, test } from '@playwright/test';
import { AppShell } from './fixtures/app_shell';
import { axeViolations } from './fixtures/axe';
import { CustomerListPage } from './fixtures/customer_list_page';
import { ScreenChunks } from './fixtures/screen_chunks';

// The detail pane's screens live in chunks split from the page's first wasm
// (client/app/src/screens.rs, scripts/build-screens.mjs): the list needs none of them.

test.describe('without a service worker', () => {
  // Every request reaches the network (and the test's routes), as on a first visit before
  // the worker stored the build.
  // (CSP bypassed so that axe can be injected into the message.)
  test.use({ serviceWorkers: 'block', bypassCSP: true });

  test('the list shows without any screen chunk; a customer loads its chunk on the first tap', async ({ page }) => {
    const list = new CustomerListPage(page);
    const chunks = new ScreenChunks(page);
    await list.open();
    expect(await chunks.fetchedBeforeList()).toEqual([]);
    expect(await chunks.fetched()).toEqual([]);
    await list.addCustomer({ name: 'Ada Lovelace', company: 'Analytical Engines' });
    // The customer's screens came with their chunk; the list and the form needed no other.
    const fetched = await chunks.fetched();
    expect(fetched.some((file) => file.includes('/split_customer-'))).toBe(true);
    expect(fetched.some((file) => file.includes('/split_insights-'))).toBe(false);
  });

  test('a screen whose chunk cannot be downloaded says so, the list keeps working, and it loads once the network is back', async ({ page }) => {
    const list = new CustomerListPage(page);
    const chunks = new ScreenChunks(page);
    await list.open();
    await list.addCustomer({ name: 'Ada Lovelace', company: 'Analytical Engines' });
    await chunks.block();
    await page.goto('/dashboard');
    await list.waitReady();
    await chunks.expectNotLoaded();
    await expect(chunks.notLoaded().getByRole('button', { name: 'Try again' })).toBeVisible();
    for (const size of [{ name: 'phone', width: 390, height: 844 }, { name: 'tablet', width: 820, height: 1180 }]) {
      await page.setViewportSize(size);
      await page.screenshot({ path: `test-results/screenshots/${size.name}-screen-not-loaded.png` });
    }
    // The way back to the list, on a phone where the pane covers it.
    await page.setViewportSize({ width: 390, height: 844 });
    await chunks.notLoaded().getByTestId('screen-not-loaded-back').click();
    await expect(page).toHaveURL(/\/$/);
    // The list is still there and searchable.
    await list.searchFor('Lovelace');
    await expect(list.rowNames).toHaveText(['Ada Lovelace']);
    await page.goto('/dashboard');
    await chunks.expectNotLoaded();
    await chunks.unblock();
    await chunks.notLoaded().getByRole('button', { name: 'Try again' }).click();
    await list.waitReady();
    await expect(page.getByTestId('dashboard-page')).toBeVisible();
    await expect(chunks.notLoaded()).toHaveCount(0);
  });

  test('the "not on this device yet" message has no accessibility violation and both of its ways out work from the keyboard', async ({ page }) => {
    const list = new CustomerListPage(page);
    const chunks = new ScreenChunks(page);
    await list.open();
    await chunks.block();
    for (const size of [{ width: 390, height: 844 }, { width: 820, height: 1180 }]) {
      await page.setViewportSize(size);
      await page.goto('/dashboard');
      await list.waitReady();
      await chunks.expectNotLoaded();
      expect(await axeViolations(page), `axe at ${size.width}x${size.height}`).toEqual([]);
      // Tab from the top of the page reaches both controls, each visible when focused.
      const reached: string[] = [];
      for (let i = 0; i < 80 && reached.length < 2; i++) {
        await page.keyboard.press('Tab');
        const focused = page.locator(':focus');
        const text = (await focused.textContent())?.trim() ?? '';
        const inMessage = await focused.evaluate((el) => !!el.closest('[data-testid="screen-not-loaded"]'));
        if (inMessage) {
          await expect(focused).toBeInViewport();
          reached.push(text);
        }
      }
      expect(reached).toEqual(['Try again', 'Back to your customers']);
      // Enter on the focused way back opens the list.
      await page.keyboard.press('Enter');
      await expect(page).toHaveURL(/\/$/);
      await list.waitReady();
    }
  });
});

test('after one visit, every chunk is in the service worker\'s cache: the screens open offline', async ({ page, context }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await new AppShell(page).waitUntilOfflineReady();
  await list.waitReady();
  await context.setOffline(true);
  await page.reload();
  await list.waitReady();
  for (const [path, testId] of [
    ['/dashboard', 'dashboard-page'],
    ['/settings/fields', 'fields-page'],
    ['/menu', 'menu-page'],
  ]) {
    await page.goto(path);
    await expect(page.getByTestId(testId)).toBeVisible();
    await expect(page.getByTestId('screen-not-loaded')).toHaveCount(0);
  }
});

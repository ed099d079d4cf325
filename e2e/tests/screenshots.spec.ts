import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';

// Phone and tablet pictures of every screen, kept as test artifacts
// (e2e/test-results/screenshots/) so a person looks at what was built.
const sizes = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'tablet', width: 820, height: 1180 },
];

for (const size of sizes) {
  test(`screens at ${size.name} size`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    const shot = async (name: string) => {
      await page.screenshot({ path: `test-results/screenshots/${size.name}-${name}.png` });
    };
    const list = new CustomerListPage(page);
    await list.open();
    await expect(list.emptyBook).toBeVisible();
    await shot('empty');

    await list.addSampleCustomers(120, 3);
    await list.open();
    await expect(list.rows.first()).toBeVisible();
    await shot('list');

    await list.searchFor('lyon');
    await expect(list.rows.first()).toBeVisible();
    await shot('search');
    await list.searchFor('');

    await list.rows.nth(1).click();
    await expect(page.getByTestId('customer-heading')).toBeVisible();
    await expect(list.rows.nth(1)).toHaveAttribute('aria-current', 'page');
    await shot('customer');

    await page.goto('/customers/new');
    await expect(page.getByTestId('new-customer-page')).toBeVisible();
    await page.getByTestId('save-customer').click();
    await expect(page.getByTestId('new-name-error')).toBeVisible();
    await shot('new-customer-errors');

    // Every interactive element a thumb hits is at least 44 px high.
    await list.open();
    for (const target of ['search', 'filter-stage', 'toggle-archived', 'add-customer']) {
      const box = await page.getByTestId(target).boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }
  });
}

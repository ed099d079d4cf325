import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { goOffline, twoDevices } from './fixtures/devices';
import { CustomerSales, PipelineBoard, ProductsPage } from './fixtures/sales';

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

test('a purchase from the catalog is recorded and adds to the lifetime value', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  const products = new ProductsPage(page);
  await products.open();
  // A bad price is refused with a reason and adds nothing.
  await page.getByTestId('product-name').fill('Grinder');
  await page.getByTestId('product-price').fill('twelve');
  await page.getByTestId('product-add').click();
  await expect(page.getByTestId('product-error')).toContainText('is not a price');
  await expect(products.products).toHaveCount(0);
  await products.add('Grinder', '199.90', 'GR-1');
  await products.add('Espresso machine', '1,249.00');
  await expect(page.getByTestId('product-title')).toHaveText(['Espresso machine', 'Grinder']);
  // A new price for the grinder; a bad one is refused.
  const grinderPrice = products.products.filter({ hasText: 'Grinder' }).getByTestId('product-price-edit');
  await grinderPrice.fill('abc');
  await grinderPrice.blur();
  await expect(page.getByTestId('product-error')).toContainText('"abc" is not a price');
  await grinderPrice.fill('199.90');
  await grinderPrice.blur();
  await expect(products.products.filter({ hasText: 'Grinder' })).toContainText('199.90 EUR');

  await list.open();
  await list.addCustomer({ name: 'Buyer Bea', company: 'Café Bea' });
  const sales = new CustomerSales(page);
  await sales.recordPurchase('Espresso machine', '2');
  await expect(page.getByTestId('purchase-price')).toHaveValue('');
  await sales.recordPurchase('Grinder', '1');
  await expect(page.getByTestId('lifetime-value')).toHaveText('Lifetime value: 2,697.90 EUR · 2 purchases');
  await expect(sales.purchases.first()).toContainText('2 × Espresso machine');
  // A quantity of zero is refused by the rules, with nothing stored.
  await sales.page.getByTestId('purchase-product').selectOption({ index: 1 });
  await page.getByTestId('purchase-quantity').fill('0');
  await page.getByTestId('purchase-add').click();
  await expect(page.locator('[data-testid^="error-purchases."]')).toContainText('at least 1');
  await page.reload();
  await expect(sales.purchases).toHaveCount(2);
  await expect(page.getByTestId('lifetime-value')).toContainText('2,697.90 EUR');
});

test('a deal moves through the pipeline from the customer page and from the board', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Deal Dora' });
  const sales = new CustomerSales(page);
  await sales.addDeal('Three machines for the new shop', '3600');
  await sales.addDeal('Service contract', '480');
  await expect(sales.deals.first().getByTestId('deal-stage')).toHaveValue('qualification');
  await sales.deals.filter({ hasText: 'Service contract' }).getByTestId('deal-stage').selectOption('proposal');
  await expect(sales.deals.filter({ hasText: 'Service contract' }).getByTestId('deal-stage')).toHaveValue('proposal');

  const board = new PipelineBoard(page);
  await board.open();
  await expect(board.dealsIn('qualification')).toHaveText(['Three machines for the new shop']);
  await expect(board.dealsIn('proposal')).toHaveText(['Service contract']);
  // 3,600 × 10% + 480 × 30% = 504
  await expect(page.getByTestId('pipeline-totals')).toHaveText('Open pipeline 4,080.00 EUR · weighted forecast 504.00 EUR');
  await board.move('Three machines for the new shop', 'won');
  await expect(board.dealsIn('qualification')).toHaveCount(0);
  await expect(page.getByTestId('pipeline-totals')).toHaveText('Open pipeline 480.00 EUR · weighted forecast 144.00 EUR');
  await page.reload();
  await expect(board.dealsIn('won')).toHaveText(['Three machines for the new shop']);
});

test('the catalog and a deal reach the rep\'s other device; products added offline on both merge', async ({ browser, baseURL }) => {
  const { phone, tablet } = await twoDevices(browser, baseURL);
  const phoneProducts = new ProductsPage(phone.page);
  await phoneProducts.open();
  await phoneProducts.add('Grinder', '199.90');
  const tabletProducts = new ProductsPage(tablet.page);
  await tabletProducts.open();
  await expect(tablet.page.getByTestId('product-title')).toHaveText(['Grinder']);

  // Both offline, each adds a product: once back, both devices list all three.
  await goOffline(phone);
  await goOffline(tablet);
  await phoneProducts.add('Milk jug', '12');
  await tabletProducts.add('Tamper', '29.50');
  await phone.context.setOffline(false);
  await tablet.context.setOffline(false);
  for (const device of [phone, tablet]) {
    await expect(device.page.getByTestId('product-title')).toHaveText(['Grinder', 'Milk jug', 'Tamper'], { timeout: 15_000 });
  }

  // A deal moved on the phone's board shows in its new stage on the tablet's.
  await phone.list.open();
  await phone.list.addCustomer({ name: 'Synced Sid' });
  await new CustomerSales(phone.page).addDeal('Café fit-out', '9000');
  const tabletBoard = new PipelineBoard(tablet.page);
  await tabletBoard.open();
  await expect(tabletBoard.dealsIn('qualification')).toHaveText(['Café fit-out'], { timeout: 15_000 });
  const phoneBoard = new PipelineBoard(phone.page);
  await phoneBoard.open();
  await phoneBoard.move('Café fit-out', 'negotiation');
  await expect(tabletBoard.dealsIn('negotiation')).toHaveText(['Café fit-out'], { timeout: 15_000 });
  await phone.context.close();
  await tablet.context.close();
});

test('cross-sell suggests what similar buyers bought, explained in one line', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  const products = new ProductsPage(page);
  await products.open();
  await products.add('Grinder', '199');
  await products.add('Coffee beans', '89');
  await products.add('Barista training', '350');
  const sales = new CustomerSales(page);
  for (const [name, bought] of [
    ['Buyer One', ['Grinder', 'Coffee beans']],
    ['Buyer Two', ['Grinder', 'Coffee beans', 'Barista training']],
    ['Buyer Three', ['Grinder']],
  ] as const) {
    await list.open();
    await list.addCustomer({ name });
    for (const product of bought) await sales.recordPurchase(product, '1');
  }
  // Buyer Three bought only a grinder: beans first (2 of the 2 others), then training.
  await expect(page.getByTestId('cross-sell-item')).toHaveText([
    'Coffee beans: bought by 2 of the 2 customers who also bought Grinder.',
    'Barista training: bought by 1 of the 2 customers who also bought Grinder.',
  ]);
});

test('upcoming birthdays show with the follow-ups', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Birthday Bea' });
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  const customer = new CustomerPage(page);
  const day = String(tomorrow.getDate());
  const month = String(tomorrow.getMonth() + 1);
  await customer.setBirthday({ day, month, year: '1990' });
  await customer.expectSaved();
  // A birthday whose year the rep does not know comes up too, without an age.
  await customer.backToList();
  await list.addCustomer({ name: 'Birthday Bo' });
  await customer.setBirthday({ day, month });
  await customer.expectSaved();
  await page.getByTestId('back').click();
  await page.getByTestId('follow-ups-link').click();
  await expect(page.getByTestId('personal-touch')).toHaveText([
    `Birthday BeaBirthday tomorrow (turns ${tomorrow.getFullYear() - 1990})`,
    'Birthday BoBirthday tomorrow',
  ]);
});

test('the pipeline stages are edited: renamed, reweighted, removed, and a lost stage is required', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Stage Stan' });
  const sales = new CustomerSales(page);
  await sales.addDeal('Big order', '1000');
  await sales.deals.first().getByTestId('deal-stage').selectOption('negotiation');
  await expect(sales.deals.first().getByTestId('deal-stage')).toHaveValue('negotiation');
  const board = new PipelineBoard(page);
  await board.open();
  await page.getByTestId('edit-pipeline').click();
  const rows = page.getByTestId('stage-row');
  await expect(rows).toHaveCount(5);
  // Without a lost stage the pipeline is refused, with the reason.
  await rows.nth(4).getByTestId('stage-remove').click();
  await page.getByTestId('pipeline-save').click();
  await expect(page.getByTestId('pipeline-error')).toContainText('at least one open, one won and one lost stage');
  await page.getByTestId('pipeline-cancel').click();

  await page.getByTestId('edit-pipeline').click();
  await rows.nth(1).getByTestId('stage-name').fill('Quote sent');
  await rows.nth(1).getByTestId('stage-name').blur();
  await rows.nth(0).getByTestId('stage-probability').fill('20');
  await rows.nth(0).getByTestId('stage-probability').blur();
  await rows.nth(2).getByTestId('stage-remove').click();
  await page.getByTestId('pipeline-save').click();
  await expect(page.getByTestId('pipeline-editor')).toHaveCount(0);
  // The deal of the removed stage shows in the first stage, weighted at its new 20%.
  await expect(board.dealsIn('qualification')).toHaveText(['Big order']);
  await expect(page.getByTestId('stage-proposal').locator('.section-title')).toHaveText('Quote sent (0)');
  await expect(page.getByTestId('pipeline-totals')).toHaveText('Open pipeline 1,000.00 EUR · weighted forecast 200.00 EUR');
  await page.reload();
  await expect(page.getByTestId('stage-negotiation')).toHaveCount(0);
});

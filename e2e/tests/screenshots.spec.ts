import { expect, test, type Page } from '@playwright/test';
import { AccountPage } from './fixtures/account_page';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { CustomerRecords, FollowUpsPage, SurveyPage, localDateTime } from './fixtures/customer_records';
import { CustomerSales, PipelineBoard, ProductsPage } from './fixtures/sales';
import { goOffline, twoDevices } from './fixtures/devices';
import { HeldBookBanner } from './fixtures/held_book';

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
    // The birthday as day, month and an optional year.
    await page.getByTestId('field-birthday').scrollIntoViewIfNeeded();
    await shot('customer-birthday');
    for (const part of ['day', 'month', 'year']) {
      const box = await page.getByTestId(`field-birthday-${part}`).boundingBox();
      expect(box?.height, part).toBeGreaterThanOrEqual(44);
    }

    // History: an edit, then the entries and the company's earlier values.
    const historyOf = new CustomerPage(page);
    await historyOf.setField('company', 'Renamed Trading Ltd');
    await historyOf.setField('job_title', 'Chief buyer');
    await historyOf.expectSaved();
    await page.getByTestId('open-history').click();
    await expect(page.getByTestId('history-entry')).toHaveCount(3);
    await shot('history');
    for (const line of await page.locator('a.history-line').all()) {
      expect((await line.boundingBox())?.height, 'history line').toBeGreaterThanOrEqual(44);
    }
    await page.locator('[data-testid="history-line"][data-field="company"]').first().click();
    await expect(page.getByTestId('field-value')).toHaveCount(2);
    await shot('field-history');
    expect((await page.getByTestId('put-back').boundingBox())?.height, 'put back').toBeGreaterThanOrEqual(44);

    await page.goto('/customers/new');
    await expect(page.getByTestId('new-customer-page')).toBeVisible();
    await page.getByTestId('save-customer').click();
    await expect(page.getByTestId('new-name-error')).toBeVisible();
    await shot('new-customer-errors');
    // The same form while typing someone already in the book.
    await page.getByTestId('new-name').fill((await list.rowNames.first().textContent())!);
    await expect(page.getByTestId('duplicate-hint').first()).toBeVisible();
    await page.getByTestId('duplicate-hints').scrollIntoViewIfNeeded();
    await shot('new-customer-duplicate');

    // Quick capture, with a duplicate hint for a name already in the book.
    await list.open();
    const existing = (await list.rowNames.first().textContent())!;
    await page.getByTestId('quick-capture').first().click();
    await page.getByTestId('capture-name').fill(existing);
    await page.getByTestId('capture-event').fill('Salon Lyon 2026');
    await expect(page.getByTestId('duplicate-hint').first()).toBeVisible();
    await shot('capture-duplicate');
    for (const target of ['capture-save', 'interest-hot', 'add-to-existing', 'open-existing']) {
      const box = await page.getByTestId(target).first().boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }

    await page.goto('/settings');
    await expect(page.getByTestId('storage-usage')).toContainText('Using');
    await shot('settings');

    // A customer's timeline with a call, a complaint and follow-ups; the composer open.
    await list.open();
    await list.rows.nth(2).click();
    const records = new CustomerRecords(page);
    await records.log('call', { outcome: 'Reached', summary: 'Wants a demo of the new range next week' });
    await records.log('complaint', { summary: 'Invoice sent twice' });
    await records.timelineItems.first().getByTestId('complaint-advance').click();
    await records.addFollowUp('Demo of the new range', localDateTime(0, '23:30'), 'high');
    await records.addFollowUp('Send the price list', localDateTime(-1, '10:00'));
    await page.getByTestId('log-visit').click();
    await page.getByTestId('activity-log').scrollIntoViewIfNeeded();
    await shot('timeline');
    for (const target of ['log-call', 'activity-save', 'activity-outcome', 'task-toggle', 'task-add', 'complaint-advance']) {
      const box = await page.getByTestId(target).first().boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }
    await page.getByTestId('activity-cancel').click();
    await page.getByTestId('follow-ups-card').scrollIntoViewIfNeeded();
    await shot('customer-follow-ups');
    // Survey mode: the question with a score chosen, then the customer page's feedback card.
    const survey = new SurveyPage(page);
    await survey.start('nps');
    await page.getByTestId('survey-score-8').click();
    await shot('survey');
    for (const target of ['survey-score-10', 'survey-submit', 'survey-unlock']) {
      const box = await page.getByTestId(target).boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }
    await page.getByTestId('survey-submit').click();
    await expect(page.getByTestId('survey-thanks')).toBeVisible();
    await survey.holdUnlock(1_700);
    await expect(page.getByTestId('latest-nps')).toContainText('8');
    await page.getByTestId('feedback-card').scrollIntoViewIfNeeded();
    await shot('customer-feedback');
    await list.open();
    await new FollowUpsPage(page).open();
    await expect(page.getByTestId('follow-ups-overdue')).toBeVisible();
    await shot('follow-ups');
    for (const target of ['follow-up-done', 'export-ics']) {
      const box = await page.getByTestId(target).first().boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }

    // Menu, products, a customer's deals and purchases, the pipeline board.
    await list.open();
    await page.getByTestId('open-menu').click();
    await expect(page.getByTestId('menu-page')).toBeVisible();
    await shot('menu');
    const products = new ProductsPage(page);
    await products.open();
    await products.add('Espresso machine Pro', '1249', 'ESP-PRO');
    await products.add('Grinder', '199.90', 'GR-1');
    await products.add('Barista training', '350');
    await shot('products');
    await list.open();
    await list.rows.nth(3).click();
    const sales = new CustomerSales(page);
    await sales.addDeal('Two machines for the new shop', '2498');
    await sales.addDeal('Service plan', '480');
    await sales.deals.filter({ hasText: 'Service plan' }).getByTestId('deal-stage').selectOption('negotiation');
    await sales.recordPurchase('Grinder', '2');
    await sales.recordPurchase('Barista training', '1');
    await page.getByTestId('deals-card').scrollIntoViewIfNeeded();
    await shot('deals-purchases');
    for (const target of ['deal-stage', 'deal-add', 'purchase-product', 'purchase-add']) {
      const box = await page.getByTestId(target).first().boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }
    await list.open();
    await list.rows.nth(4).click();
    await sales.addDeal('Café fit-out', '9000');
    const board = new PipelineBoard(page);
    await board.open();
    await expect(board.dealsIn('negotiation')).toHaveText(['Service plan']);
    await shot('pipeline');
    await page.getByTestId('edit-pipeline').click();
    await shot('pipeline-editor');
    for (const target of ['stage-name', 'stage-up', 'stage-remove', 'stage-add', 'pipeline-save']) {
      const box = await page.getByTestId(target).last().boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }
    await page.getByTestId('pipeline-cancel').click();
    const stageBox = await page.getByTestId('board-deal-stage').first().boundingBox();
    expect(stageBox?.height).toBeGreaterThanOrEqual(44);

    // Duplicates in the sample book, and the merge screen of the first pair.
    await page.goto('/menu');
    await page.getByTestId('menu-duplicates').click();
    await expect(page.getByTestId('duplicate-pair').first()).toBeVisible();
    await shot('duplicates');
    expect((await page.getByTestId('review-pair').first().boundingBox())?.height).toBeGreaterThanOrEqual(44);
    await page.getByTestId('review-pair').first().click();
    await expect(page.getByTestId('merge-preview')).toBeVisible();
    await shot('merge');
    for (const target of ['merge-swap', 'merge-confirm']) {
      const box = await page.getByTestId(target).first().boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }

    // Import: a small Salesforce file, mapped; then the report with a bad row.
    await page.goto('/menu');
    await page.getByTestId('menu-import').click();
    await page.getByTestId('import-file').setInputFiles({
      name: 'salesforce-contacts.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('First Name,Last Name,Title,Account Name,Mailing City,Email,Phone,Lead Status\nJean,Martin,Buyer,Fromagerie,Lyon,jean@f.example,04 78 00 00 00,Working - Contacted\nAnna,Berg,CEO,Nordic AB,Malmö,not-an-email,,Closed - Converted\n'),
    });
    await expect(page.getByTestId('import-layout')).toHaveText('Recognised as: Salesforce');
    await shot('import-mapping');
    await page.getByTestId('import-stages').scrollIntoViewIfNeeded();
    await shot('import-stages');
    const stageSelectBox = await page.getByTestId('import-stage').first().boundingBox();
    expect(stageSelectBox?.height, 'import-stage').toBeGreaterThanOrEqual(44);
    for (const target of ['import-file', 'import-run', 'import-target', 'on-duplicate-skip']) {
      const box = await page.getByTestId(target).first().boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(target === 'on-duplicate-skip' ? 20 : 44);
    }
    await page.getByTestId('import-run').click();
    await expect(page.getByTestId('import-report')).toBeVisible();
    await shot('import-report');

    // Segments: loyal customers, saved.
    await page.goto('/menu');
    await page.getByTestId('menu-segments').click();
    await page.getByTestId('segment-stage').selectOption('loyal');
    await page.getByTestId('segment-name').fill('Loyal customers');
    await page.getByTestId('segment-save').click();
    await expect(page.getByTestId('saved-segment')).toHaveCount(1);
    await shot('segments');
    for (const target of ['saved-segment', 'segment-stage', 'segment-save', 'bulk-tag-apply', 'segment-export']) {
      const box = await page.getByTestId(target).first().boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }

    // Every interactive element a thumb hits is at least 44 px high.
    await list.open();
    for (const target of ['search', 'filter-stage', 'toggle-archived', 'add-customer', 'quick-capture', 'open-menu', 'follow-ups-link']) {
      const box = await page.getByTestId(target).boundingBox();
      expect(box?.height, target).toBeGreaterThanOrEqual(44);
    }
  });
}

// The sync screens: sign-in form, account with its devices, the indicator offline and backed
// up, and a conflict on the customer page.
for (const size of sizes) {
  test(`sync screens at ${size.name} size`, async ({ browser, baseURL }) => {
    const viewport = { width: size.width, height: size.height };
    const signedOut = await browser.newPage({ baseURL, viewport, hasTouch: true });
    const shot = async (page: Page, name: string) => {
      await page.screenshot({ path: `test-results/screenshots/${size.name}-${name}.png` });
    };
    const form = new AccountPage(signedOut);
    await form.open();
    await expect(signedOut.getByTestId('sign-in-form')).toBeVisible();
    await shot(signedOut, 'sign-in');
    await signedOut.getByTestId('toggle-mode').click();
    await signedOut.getByTestId('email').fill('short@example.com');
    await signedOut.getByTestId('password').fill('short');
    await signedOut.getByTestId('submit').click();
    await expect(signedOut.getByTestId('error-password')).toBeVisible();
    await shot(signedOut, 'sign-up-errors');
    await signedOut.close();

    const { phone, tablet } = await twoDevices(browser, baseURL, viewport);
    await phone.list.open();
    await phone.list.addCustomer({ name: 'Conflicted Carl', company: 'Fork Inc' });
    await phone.account.expectBackedUp();
    await tablet.list.open();
    await tablet.list.openCustomer('Conflicted Carl');
    await tablet.account.expectBackedUp();
    await shot(tablet.page, 'customer-backed-up');
    await goOffline(phone);
    await goOffline(tablet);
    await new CustomerPage(phone.page).setField('company', 'Fork Inc (phone)');
    await new CustomerPage(tablet.page).setField('company', 'Fork Inc (tablet)');
    await expect(tablet.page.getByTestId('sync-status')).toContainText('not backed up');
    await shot(tablet.page, 'customer-offline');
    await phone.context.setOffline(false);
    await tablet.context.setOffline(false);
    await phone.account.expectBackedUp();
    await tablet.account.expectBackedUp();
    await expect(tablet.page.getByTestId('conflict')).toBeVisible({ timeout: 10_000 });
    await tablet.page.getByTestId('conflicts').scrollIntoViewIfNeeded();
    await shot(tablet.page, 'conflict');

    // The conflict in the history, and the tablet's recent changes (the phone's edit).
    await tablet.page.getByTestId('open-history').click();
    await expect(tablet.page.getByTestId('history-entry')).toHaveCount(3);
    await shot(tablet.page, 'history-conflict');
    await tablet.page.goto('/recent');
    await expect(tablet.page.getByTestId('recent-change').first()).toBeVisible();
    await shot(tablet.page, 'recent-changes');
    const since = await tablet.page.getByTestId('recent-since').boundingBox();
    expect(since?.height).toBeGreaterThanOrEqual(44);

    await tablet.account.open();
    await expect(tablet.account.devices).toHaveCount(2);
    await shot(tablet.page, 'account');
    // Thumb-sized targets on the account screen.
    for (const target of [tablet.account.device('Phone').getByTestId('revoke'), tablet.page.getByTestId('sign-out')]) {
      const box = await target.boundingBox();
      expect(box?.height).toBeGreaterThanOrEqual(44);
    }

    // The phone, revoked while it holds a change it never sent, keeps it and says so.
    await goOffline(phone);
    await new CustomerPage(phone.page).setField('job_title', 'Buyer');
    await tablet.account.revoke('Phone');
    await phone.context.setOffline(false);
    const held = new HeldBookBanner(phone.page);
    await held.expectHolding(1);
    await shot(phone.page, 'held-book');
    for (const target of [held.banner.getByTestId('held-export'), held.banner.getByTestId('held-remove')]) {
      const box = await target.boundingBox();
      expect(box?.height).toBeGreaterThanOrEqual(44);
    }
    await phone.context.close();
    await tablet.context.close();
  });
}

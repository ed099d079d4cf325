import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { CustomerRecords, FollowUpsPage, localDateTime } from './fixtures/customer_records';

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

test('a call is logged in two taps and the timeline keeps it across a reload', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Timeline Tina', company: 'Calls Ltd' });
  const customer = new CustomerPage(page);
  const records = new CustomerRecords(page);

  // Two taps: "Call", then "Save".
  await records.log('call');
  await customer.expectSaved();
  await expect(records.timelineItems.first().getByTestId('timeline-kind')).toHaveText('Call');
  await expect(records.timelineItems.first()).toContainText('Today');
  await expect(records.timelineItems.first()).toContainText('Outbound');
  // Not signed in: the call is by this browser, named as another device would show it
  // (never "by this device", which on the rep's other devices would be false).
  await expect(records.timelineItems.first()).toContainText('by Chrome on Linux');

  await records.log('visit', { outcome: 'Order placed', summary: 'Ordered 3 machines for the new shop' });
  await customer.expectSaved();
  await expect(records.timelineItems.first().getByTestId('timeline-kind')).toHaveText('Visit');
  await expect(records.timelineItems.first().getByTestId('timeline-outcome')).toHaveText('Order placed');

  await page.reload();
  await expect(records.timelineItems).toHaveCount(2);
  await expect(records.timelineItems.getByTestId('timeline-summary')).toHaveText(['Ordered 3 machines for the new shop']);
});

test('a complaint moves from open to resolved with its response and resolution times', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Complaining Carl' });
  const records = new CustomerRecords(page);
  await records.log('complaint', { summary: 'The delivery arrived damaged' });
  const complaint = records.timelineItems.first();
  await expect(complaint.getByTestId('complaint-status')).toHaveText('Open');
  await complaint.getByTestId('complaint-advance').click();
  await expect(complaint.getByTestId('complaint-status')).toHaveText('In progress');
  await expect(complaint.getByTestId('complaint-times')).toContainText('first response 0 min');
  await complaint.getByTestId('complaint-advance').click();
  await expect(complaint.getByTestId('complaint-status')).toHaveText('Resolved');
  await expect(complaint.getByTestId('complaint-times')).toContainText('resolved in 0 min');
});

test('follow-ups show as overdue, today and upcoming, and completing one clears it', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Follow Fiona' });
  const records = new CustomerRecords(page);
  await records.addFollowUp('Send the brochure', localDateTime(-2, '09:00'));
  await records.addFollowUp('Call about the demo', localDateTime(0, '23:59'), 'high');
  await records.addFollowUp('Quarterly review', localDateTime(10, '10:00'));
  await expect(records.task('Send the brochure')).toContainText('Overdue');
  // An empty title is refused with a reason, and nothing is added.
  await page.getByTestId('task-add').click();
  await expect(page.locator('[data-testid^="error-tasks."]')).toContainText('say what to do');
  await expect(records.tasks).toHaveCount(3);

  await page.getByTestId('back').click();
  const followUps = new FollowUpsPage(page);
  await expect(followUps.badge()).toHaveText('2');
  await followUps.open();
  await expect(followUps.group('overdue')).toHaveText(['Send the brochure']);
  await expect(followUps.group('today')).toHaveText(['Call about the demo']);
  await expect(followUps.group('upcoming')).toHaveText(['Quarterly review']);

  // Done from the follow-ups screen: it leaves the view and the badge counts one less.
  await page.getByTestId('follow-ups-overdue').getByTestId('follow-up-done').click();
  await expect(page.getByTestId('follow-ups-overdue')).toHaveCount(0);
  await expect(followUps.badge()).toHaveText('1');

  // Undone from the customer page: back to overdue.
  await page.getByTestId('follow-ups-today').getByTestId('follow-up').first().locator('a').click();
  await expect(records.task('Send the brochure').getByTestId('task-toggle')).toHaveAttribute('aria-pressed', 'true');
  await records.task('Send the brochure').getByTestId('task-toggle').click();
  await expect(records.task('Send the brochure')).toContainText('Overdue');
  await page.reload();
  await expect(new FollowUpsPage(page).badge()).toHaveText('2');
});

test('follow-ups export as an iCalendar file', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Calendar Cora', company: 'Dates & Co' });
  const records = new CustomerRecords(page);
  await records.addFollowUp('Bring samples, and the price list', localDateTime(1, '09:30'));
  await page.getByTestId('back').click();
  const followUps = new FollowUpsPage(page);
  await followUps.open();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-ics').click()]);
  expect(download.suggestedFilename()).toMatch(/^fieldbook-follow-ups-\d{4}-\d{2}-\d{2}\.ics$/);
  const text = await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
  expect(text).toContain('BEGIN:VCALENDAR');
  expect(text).toContain('SUMMARY:Bring samples\\, and the price list — Calendar Cora');
  expect(text).toContain('DESCRIPTION:Dates & Co');
  await expect(page.getByTestId('ics-message')).toContainText('Exported 1 follow-up to a calendar file');
});

test('an activity or follow-up entered by mistake is deleted after a confirmation', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Oops Olivia' });
  const records = new CustomerRecords(page);
  await records.log('call', { summary: 'Right customer' });
  await records.log('email', { summary: 'Wrong customer' });
  await records.addFollowUp('Not for her', localDateTime(1, '10:00'));
  const wrong = records.timelineItems.filter({ hasText: 'Wrong customer' });
  // Cancelling the confirmation keeps it.
  page.once('dialog', (dialog) => dialog.dismiss());
  await wrong.getByTestId('delete-record').click();
  await expect(records.timelineItems).toHaveCount(2);
  page.once('dialog', (dialog) => {
    expect(dialog.message()).toBe('Delete this email? It is removed on every device.');
    dialog.accept();
  });
  await wrong.getByTestId('delete-record').click();
  await expect(records.timelineItems).toHaveCount(1);
  page.once('dialog', (dialog) => dialog.accept());
  await records.task('Not for her').getByTestId('delete-record').click();
  await expect(records.tasks).toHaveCount(0);
  await page.reload();
  await expect(records.timelineItems.getByTestId('timeline-summary')).toHaveText(['Right customer']);
  await expect(records.tasks).toHaveCount(0);
});

test('an activity summary is corrected and a follow-up rescheduled', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Fix Fanny' });
  const records = new CustomerRecords(page);
  await records.log('visit', { summary: 'Ordred 3 machnes' });
  await records.timelineItems.first().getByTestId('timeline-edit').click();
  await page.getByTestId('timeline-edit-summary').fill('Ordered 3 machines');
  await page.getByTestId('timeline-edit-save').click();
  await expect(records.timelineItems.first().getByTestId('timeline-summary')).toHaveText('Ordered 3 machines');
  await records.addFollowUp('Deliver the machines', localDateTime(3, '10:00'));
  await expect(records.task('Deliver the machines')).not.toContainText('Overdue');
  await records.task('Deliver the machines').getByTestId('task-reschedule').fill(localDateTime(-1, '10:00'));
  await records.task('Deliver the machines').getByTestId('task-reschedule').blur();
  await expect(records.task('Deliver the machines')).toContainText('Overdue · Yesterday 10:00');
  await page.reload();
  await expect(records.timelineItems.first().getByTestId('timeline-summary')).toHaveText('Ordered 3 machines');
  await expect(records.task('Deliver the machines')).toContainText('Overdue');
});

test('without a Notifications API (Safari on iPhone, not installed) follow-ups still work', async ({ page }) => {
  await page.addInitScript(() => {
    // @ts-expect-error: removing the API as Safari on iOS lacks it outside installed apps.
    delete window.Notification;
  });
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Safari Sam' });
  const records = new CustomerRecords(page);
  await records.addFollowUp('Call back', localDateTime(0, '23:59'));
  await page.getByTestId('back').click();
  const followUps = new FollowUpsPage(page);
  await expect(followUps.badge()).toHaveText('1');
  await followUps.open();
  await expect(page.getByTestId('reminders-state')).toContainText('This browser cannot show notifications');
  await expect(followUps.group('today')).toHaveText(['Call back']);
});

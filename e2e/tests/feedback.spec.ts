import { expect, test } from '@playwright/test';
import { CustomerListPage } from './fixtures/customer_list_page';
import { SurveyPage } from './fixtures/customer_records';

test.use({ viewport: { width: 820, height: 1180 } });

test('an NPS score is captured in survey mode and the rep returns only by press-and-hold', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Survey Sam', company: 'Booth Visitors' });
  await expect(page.getByTestId('latest-nps')).toContainText('—');

  const survey = new SurveyPage(page);
  await survey.start('nps');
  // The rep's screens under the survey take no clicks and no focus.
  await expect(page.locator('.app')).toHaveAttribute('inert', '');
  // A reload does not end survey mode.
  await page.reload();
  await expect(page.getByTestId('survey-question')).toBeVisible();
  // Sending without a score is refused.
  await page.getByTestId('survey-submit').click();
  await expect(page.getByTestId('survey-error')).toHaveText('Please choose a score.');
  await survey.answer(9, 'Great stand, helpful people');

  // The back button does not leave survey mode; a short tap on unlock does not either.
  await page.goBack();
  await expect(page.getByTestId('survey-thanks')).toBeVisible();
  await expect(page.locator('.app')).toHaveAttribute('inert', '');
  await survey.holdUnlock(300);
  await page.waitForTimeout(1_600);
  await expect(page.getByTestId('survey-thanks')).toBeVisible();

  // A press of 1.5 s does.
  await survey.holdUnlock(1_800);
  await expect(page.getByTestId('survey')).toHaveCount(0);
  await expect(page.locator('.app')).not.toHaveAttribute('inert', '');
  await expect(page.getByTestId('customer-page')).toBeVisible();
  await expect(page.getByTestId('latest-nps')).toContainText('9');
  await expect(page.getByTestId('latest-nps')).toContainText('Promoter');
  await expect(page.getByTestId('feedback-answer').first()).toContainText('NPS 9');
  await expect(page.getByTestId('feedback-answer').first()).toContainText('Great stand, helpful people');

  // A CSAT answer too; both survive a reload.
  await survey.start('csat');
  await expect(page.getByTestId('survey-score-0')).toHaveCount(0);
  await expect(page.getByTestId('survey-score-5')).toBeVisible();
  await survey.answer(4);
  await survey.holdUnlock(1_800);
  await page.reload();
  await expect(page.getByTestId('latest-csat')).toContainText('4');
  await expect(page.getByTestId('feedback-answer')).toHaveCount(2);
});

test('survey mode is left with the keyboard alone: Space or Enter held on the rep\'s control', async ({ page }) => {
  const list = new CustomerListPage(page);
  await list.open();
  await list.addCustomer({ name: 'Keyboard Kim' });
  const survey = new SurveyPage(page);
  await survey.start('csat');
  await expect(page.getByRole('dialog', { name: /^Survey: / })).toBeVisible();
  // The customer answers by keyboard too.
  await page.getByTestId('survey-score-5').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('survey-score-5')).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('survey-submit').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('survey-thanks')).toBeVisible();
  // Tab reaches the rep's control, which says how to use it.
  for (let tabs = 0; tabs < 20; tabs++) {
    if (await page.getByTestId('survey-unlock').evaluate((el) => el === document.activeElement)) break;
    await page.keyboard.press('Tab');
  }
  await expect(page.getByTestId('survey-unlock')).toHaveAccessibleDescription(/Space or Enter/);
  // A press of Enter or Space does nothing; neither does a hold cut short.
  await page.keyboard.press('Enter');
  await page.keyboard.press(' ');
  await survey.holdUnlockKey(' ', 400);
  await page.waitForTimeout(1_600);
  await expect(page.getByTestId('survey-thanks')).toBeVisible();
  // Held for 1.5 s, it returns to the rep's screens.
  await survey.holdUnlockKey('Enter', 1_800);
  await expect(page.getByTestId('survey')).toHaveCount(0);
  await expect(page.getByTestId('customer-page')).toBeVisible();
  await expect(page.getByTestId('latest-csat')).toContainText('5');
});

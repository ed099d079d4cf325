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

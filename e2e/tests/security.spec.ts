import { expect, test, type ConsoleMessage } from '@playwright/test';
import { DashboardPage } from './fixtures/dashboard';
import { openDevice, uniqueEmail } from './fixtures/devices';

const violation = /Content Security Policy|CSP violation/i;

test("the app runs whole under the relay's Content Security Policy", async ({ browser, baseURL }) => {
  // Signed up and synced once already (sign-up, the WebSocket) before listening: the
  // reload below runs everything again under the recorded policy.
  const device = await openDevice(browser, baseURL, uniqueEmail('csp'), 'Phone', false);
  const seen: string[] = [];
  const record = (message: ConsoleMessage) => {
    if (violation.test(message.text())) seen.push(message.text());
  };
  device.page.on('console', record);
  device.page.on('worker', (worker) => worker.on('console', record));
  await device.context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const response = await device.page.reload();
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' 'sha256-");
  expect(csp).toContain("frame-ancestors 'none'");
  await device.list.open();
  await device.list.addCustomer({ name: 'Policy Paula', company: 'Headers GmbH' });
  await device.account.expectBackedUp();
  await new DashboardPage(device.page).open();
  await device.list.open();
  await expect(device.list.rowNames.filter({ hasText: 'Policy Paula' })).toBeVisible();
  expect(seen).toEqual([]);
  await device.context.close();
});

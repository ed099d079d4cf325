import { expect, test } from '@playwright/test';
import { BrowserProfile, tabRole } from './fixtures/browser_profile';
import { uniqueEmail } from './fixtures/devices';

// Several tabs of one browser profile are one app: one tab's engine worker writes IndexedDB
// and syncs, every page asks it (client/src/tabs.rs, client/src/engine.rs). Nothing any of
// them called saved may be lost.

for (const withAccount of [false, true]) {
  test(`two tabs edit one customer offline ${withAccount ? 'signed in' : 'without an account'}; after a browser restart every edit is there`, async ({ baseURL }) => {
    const profile = new BrowserProfile(baseURL);
    try {
      const context = await profile.launch();
      const a = await profile.openTab();
      if (withAccount) {
        await a.account.signIn(uniqueEmail('tabs'), 'Laptop');
        await a.account.expectBackedUp();
        await a.list.open();
      }
      const b = await profile.openTab();
      await expect.poll(() => tabRole(a)).toBe('writer');
      await expect.poll(() => tabRole(b)).toBe('follower');

      await a.list.addCustomer({ name: 'Tabby Tess', company: 'Two Tabs Ltd' });
      // Tab B sees the new customer without a reload.
      await expect(b.list.rowNames.filter({ hasText: 'Tabby Tess' })).toBeVisible();
      await b.list.openCustomer('Tabby Tess');

      await context.setOffline(true);
      await a.customer.setField('job_title', 'Buyer');
      await a.customer.expectSaved();
      // An edit in tab A shows in tab B's open page without a reload.
      await expect(b.customer.field('job_title')).toHaveValue('Buyer');
      await b.customer.setField('company', 'Two Tabs GmbH');
      await b.customer.expectSaved();
      await expect(a.customer.field('company')).toHaveValue('Two Tabs GmbH');
      await b.customer.addTag('booth-12');
      await b.customer.expectSaved();
      await a.customer.setField('name', 'Tabby Tessa');
      await a.customer.expectSaved();

      await profile.close();
      const reopened = await profile.launch();
      if (withAccount) await reopened.setOffline(true);
      const c = await profile.openTab();
      await c.list.openCustomer('Tabby Tessa');
      await expect(c.customer.field('job_title')).toHaveValue('Buyer');
      await expect(c.customer.field('company')).toHaveValue('Two Tabs GmbH');
      await expect(c.page.getByTestId('tag-chip').filter({ hasText: '#booth-12' })).toBeVisible();
      await expect(c.page.getByTestId('conflicts')).toHaveCount(0);
      if (withAccount) {
        // Back online, the edits of both tabs reach the relay from the one writer.
        await reopened.setOffline(false);
        await c.account.open();
        await c.account.expectBackedUp();
      }
    } finally {
      await profile.remove();
    }
  });
}

test('only one engine of the profile holds a WebSocket; when its tab closes another tab’s engine takes over and keeps every saved edit', async ({ baseURL }) => {
  const profile = new BrowserProfile(baseURL);
  try {
    const context = await profile.launch();
    // Which tabs' engine workers hold an open socket to the relay (the sync runtime marks it
    // in its worker's global scope on the socket's open and close events).
    const openSockets = async () => {
      let n = 0;
      for (const page of context.pages()) {
        for (const worker of page.workers()) {
          if (await worker.evaluate(() => (self as any).fieldbookSocketOpen === true).catch(() => false)) n += 1;
        }
      }
      return n;
    };

    const a = await profile.openTab();
    await a.account.signIn(uniqueEmail('tabs'), 'Desktop');
    await a.account.expectBackedUp();
    const b = await profile.openTab();
    const c = await profile.openTab('/account');
    await c.account.expectBackedUp();
    await b.list.addCustomer({ name: 'Handover Hanna', company: 'Relay Race' });
    await b.customer.expectSaved();
    await c.account.expectBackedUp();
    await expect.poll(openSockets).toBe(1);

    // The writer closes while tab B saves an edit: B takes over (or C does) and the edit is
    // stored once, never lost after "saved".
    await b.customer.field('job_title').fill('Owner');
    await Promise.all([a.page.close(), b.customer.field('job_title').blur()]);
    await b.customer.expectSaved();
    await expect.poll(async () => [await tabRole(b), await tabRole(c)].sort()).toEqual(['follower', 'writer']);
    await b.customer.setField('company', 'Relay Race AG');
    await b.customer.expectSaved();
    await c.account.expectBackedUp();
    await expect.poll(openSockets).toBe(1);

    await profile.close();
    await profile.launch();
    const d = await profile.openTab();
    await d.list.openCustomer('Handover Hanna');
    await expect(d.customer.field('job_title')).toHaveValue('Owner');
    await expect(d.customer.field('company')).toHaveValue('Relay Race AG');
  } finally {
    await profile.remove();
  }
});

import { expect, test } from '@playwright/test';
import { BrowserProfile, tabRole } from './fixtures/browser_profile';
import { uniqueEmail } from './fixtures/devices';

// Several tabs of one browser profile are one app: one tab writes IndexedDB and syncs, the
// others ask it (client/src/tabs.rs). Nothing any of them called saved may be lost.

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
      expect(await tabRole(a)).toBe('writer');
      expect(await tabRole(b)).toBe('follower');

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

test('only the writer tab holds a WebSocket; when it closes another tab takes over and keeps every saved edit', async ({ baseURL }) => {
  const profile = new BrowserProfile(baseURL);
  try {
    const context = await profile.launch();
    // Every WebSocket any tab opens (Playwright observes them through CDP), and which are
    // still open (a closed tab's sockets are gone with it).
    const open = new Set<unknown>();
    let opened = 0;
    const watchSockets = (page: import('@playwright/test').Page) => {
      const mine = new Set<unknown>();
      page.on('websocket', (socket) => {
        opened += 1;
        open.add(socket);
        mine.add(socket);
        socket.on('close', () => open.delete(socket));
      });
      page.on('close', () => mine.forEach((socket) => open.delete(socket)));
    };
    context.on('page', watchSockets);
    for (const page of context.pages()) watchSockets(page);

    const a = await profile.openTab();
    await a.account.signIn(uniqueEmail('tabs'), 'Desktop');
    await a.account.expectBackedUp();
    const b = await profile.openTab();
    const c = await profile.openTab('/account');
    await c.account.expectBackedUp();
    await b.list.addCustomer({ name: 'Handover Hanna', company: 'Relay Race' });
    await b.customer.expectSaved();
    await c.account.expectBackedUp();
    expect(open.size).toBe(1);
    expect(opened).toBe(1);

    // The writer closes while tab B saves an edit: B takes over (or C does) and the edit is
    // stored once, never lost after "saved".
    await b.customer.field('job_title').fill('Owner');
    await Promise.all([a.page.close(), b.customer.field('job_title').blur()]);
    await b.customer.expectSaved();
    await expect.poll(async () => [await tabRole(b), await tabRole(c)].sort()).toEqual(['follower', 'writer']);
    await b.customer.setField('company', 'Relay Race AG');
    await b.customer.expectSaved();
    await c.account.expectBackedUp();
    await expect.poll(() => open.size).toBe(1);
    expect(opened).toBe(2);

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

import { chromium, expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromiumArgs } from '../playwright.config';
import { AccountPage } from './fixtures/account_page';
import { AppShell } from './fixtures/app_shell';
import { CapturePage } from './fixtures/capture_page';
import { CustomerListPage } from './fixtures/customer_list_page';
import { CustomerPage } from './fixtures/customer_page';
import { removeProfile } from './fixtures/browser_profile';
import { DeviceStorage } from './fixtures/device_storage';

/** A browser on a profile kept on disk (closing and relaunching it is a browser restart). */
function launchProfile(profile: string, baseURL: string | undefined, offline: boolean) {
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: chromiumArgs,
    baseURL,
    viewport: { width: 390, height: 844 },
    hasTouch: true,
    offline,
  });
}

test('the app is installable: manifest, icons, a service worker in control', async ({ page, baseURL }) => {
  const list = new CustomerListPage(page);
  await list.open();
  const shell = new AppShell(page);
  await shell.waitUntilOfflineReady();
  const { json: manifest } = await shell.manifest();
  expect(manifest.name).toBe('Fieldbook');
  expect(manifest.short_name).toBeTruthy();
  expect(manifest.display).toBe('standalone');
  expect(manifest.start_url).toBe('/');
  expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/);
  expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/);
  // Chromium needs a 192 px and a 512 px icon; each must load as the PNG it claims to be.
  const sizes = manifest.icons.map((icon: { sizes: string }) => icon.sizes);
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
  for (const icon of manifest.icons) {
    const response = await page.request.get(new URL(icon.src, baseURL).toString());
    expect(response.status(), icon.src).toBe(200);
    expect(response.headers()['content-type']).toBe('image/png');
    const png = await response.body();
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(`${width}x${height}`, icon.src).toBe(icon.sizes);
  }
  // The worker is served fresh on every check, so a new build is found.
  const sw = await page.request.get(new URL('/sw.js', baseURL).toString());
  expect(sw.headers()['cache-control']).toContain('no-cache');
});

test('after one visit online, the app starts and works with no network, and keeps what was captured', async ({ baseURL }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-offline-'));
  const launch = (offline: boolean) => launchProfile(profile, baseURL, offline);
  try {
    let context = await launch(false);
    let page = context.pages()[0] ?? (await context.newPage());
    let list = new CustomerListPage(page);
    await list.open();
    await new AppShell(page).waitUntilOfflineReady();
    await list.addCustomer({ name: 'Online Olga', company: 'Before The Show' });

    // The show floor: no network at all. Reload, and use every screen.
    await context.setOffline(true);
    await page.reload();
    await list.waitReady();
    await expect(list.rowNames).toHaveText(['Online Olga']);
    for (let i = 1; i <= 3; i++) {
      await list.open();
      await list.addCustomer({ name: `Offline Lead ${i}`, company: 'Booth 42' });
    }
    await page.goto('/account');
    await expect(page.getByTestId('account-page')).toBeVisible();
    await page.goto('/customers/new');
    await expect(page.getByTestId('new-customer-page')).toBeVisible();
    await list.open();
    await list.openCustomer('Offline Lead 2');
    await new CustomerPage(page).setField('job_title', 'Buyer');
    await new CustomerPage(page).expectSaved();
    await context.close();

    // The browser is closed and opened again, still with no network.
    context = await launch(true);
    page = context.pages()[0] ?? (await context.newPage());
    list = new CustomerListPage(page);
    await list.open();
    await expect(list.rowNames).toHaveText(['Offline Lead 1', 'Offline Lead 2', 'Offline Lead 3', 'Online Olga']);
    await list.openCustomer('Offline Lead 2');
    await expect(new CustomerPage(page).field('job_title')).toHaveValue('Buyer');
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

test('ten leads captured with no network survive a browser restart offline, then reach the rep\'s other device', async ({ browser, baseURL }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-show-'));
  test.setTimeout(120_000);
  const email = `show-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const launch = (offline: boolean) => launchProfile(profile, baseURL, offline);
  try {
    // At the hotel: the phone opens the app once and signs in.
    let context = await launch(false);
    let page = context.pages()[0] ?? (await context.newPage());
    const account = new AccountPage(page);
    await account.signIn(email, 'Phone');
    await account.expectBackedUp();
    await new AppShell(page).waitUntilOfflineReady();

    // On the show floor: no network. Ten visitors.
    await context.setOffline(true);
    const list = new CustomerListPage(page);
    await list.open();
    const capture = new CapturePage(page);
    await capture.openFromList();
    const names = Array.from({ length: 10 }, (_, i) => `Visitor ${String(i + 1).padStart(2, '0')}`);
    for (const name of names) {
      await capture.capture({ name, company: 'Show Floor Inc', interest: 'warm' });
    }
    await expect(page.getByTestId('sync-status')).toContainText('10 changes not backed up');
    await context.close();

    // The browser is killed and reopened, still with no network: every lead is there.
    context = await launch(true);
    page = context.pages()[0] ?? (await context.newPage());
    const reopened = new CustomerListPage(page);
    await reopened.open();
    await expect(reopened.rowNames).toHaveText(names);

    // Back on Wi-Fi: the leads reach the tablet.
    const tabletContext = await browser.newContext({ baseURL, viewport: { width: 820, height: 1180 } });
    const tablet = await tabletContext.newPage();
    await new AccountPage(tablet).signIn(email, 'Tablet', true);
    await context.setOffline(false);
    await new AccountPage(page).expectBackedUp();
    // The acknowledgement of all ten (one outbox record each) deleted every record.
    await expect.poll(() => new DeviceStorage(page).count('outbox')).toBe(0);
    const tabletList = new CustomerListPage(tablet);
    await tabletList.open();
    await expect(tabletList.rowNames).toHaveText(names, { timeout: 15_000 });
    await tabletContext.close();
    await context.close();
  } finally {
    removeProfile(profile);
  }
});

test('a new deployment is offered with "reload", and only then takes over', async ({ browser }) => {
  // Its own relay over a copy of the build, so the test can deploy a "new version".
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-dist-'));
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldbook-deploy-'));
  fs.cpSync(process.env.FIELDBOOK_STATIC_DIR ?? path.join(__dirname, '..', '..', 'dist'), dist, { recursive: true });
  const port = 8200 + Math.floor(Math.random() * 700);
  const relay = spawn('../target/release/fieldbook-server', ['--listen', `127.0.0.1:${port}`, '--data-dir', data, '--static-dir', dist], {
    stdio: 'ignore',
  });
  const baseURL = `http://127.0.0.1:${port}`;
  try {
    await expect.poll(async () => (await fetch(`${baseURL}/healthz`).catch(() => null))?.status, { timeout: 20_000 }).toBe(200);
    const context = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const list = new CustomerListPage(page);
    await list.open();
    await new AppShell(page).waitUntilOfflineReady();
    // The reload after "Reload" may destroy the page mid-evaluate: that poll just tries again.
    const cacheNames = () => page.evaluate(() => caches.keys()).catch(() => null);
    const before = (await cacheNames())!;
    expect(before).toHaveLength(1);
    await expect(page.getByTestId('update-banner')).toHaveCount(0);

    // Deploy: a new service worker (new version), without its stale precompressed copies.
    const swPath = path.join(dist, 'sw.js');
    fs.writeFileSync(swPath, fs.readFileSync(swPath, 'utf8').replace(/const VERSION = "[0-9a-f]+"/, 'const VERSION = "feedfacefeedface"'));
    for (const sibling of ['sw.js.br', 'sw.js.gz']) fs.rmSync(path.join(dist, sibling), { force: true });
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());

    // The new version waits; the page keeps running the old one until the rep reloads.
    await expect(page.getByTestId('update-banner')).toBeVisible();
    expect(await cacheNames()).toContain(before[0]);
    await page.getByTestId('update-reload').click();
    await expect.poll(cacheNames).toEqual(['fieldbook-feedfacefeedface']);
    await list.waitReady();
    await expect(page.getByTestId('update-banner')).toHaveCount(0);
    await context.close();
  } finally {
    relay.kill();
    fs.rmSync(dist, { recursive: true, force: true });
    fs.rmSync(data, { recursive: true, force: true });
  }
});

import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';

/** Chromium flags that work headless, as root, on a machine with a closed network. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The browser and server settings shared by the e2e suite and the benchmark: the real relay
 * binary serving the real release build of the client (scripts/test.sh and scripts/bench.sh
 * build both first) on a loopback port, with a throwaway data directory.
 */
export function realServer(port: number, name: string) {
  // Kept in the environment, which the test workers inherit, so a test can look at what the
  // relay stored (the workers load this file again, with other process ids).
  const variable = `FIELDBOOK_${name.toUpperCase()}_DATA_DIR`;
  const dataDir = process.env[variable] ?? path.join(os.tmpdir(), `fieldbook-${name}-${process.pid}`);
  process.env[variable] = dataDir;
  return {
    use: {
      baseURL: `http://127.0.0.1:${port}`,
      viewport: { width: 390, height: 844 },
      launchOptions: {
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: chromiumArgs,
      },
    },
    webServer: {
      command: `../target/release/fieldbook-server --listen 127.0.0.1:${port} --data-dir ${dataDir} --static-dir ${process.env.FIELDBOOK_STATIC_DIR ?? '../dist'}`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore' as const,
      stderr: 'pipe' as const,
    },
  };
}

const server = realServer(Number(process.env.FIELDBOOK_E2E_PORT ?? 8099), 'e2e');

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  workers: 2,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: { ...server.use, hasTouch: true, trace: 'on-first-retry' },
  webServer: server.webServer,
});

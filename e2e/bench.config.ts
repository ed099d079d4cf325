import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromiumArgs } from './playwright.config';

// The benchmark: same real server and browser as the e2e suite, one worker so figures are
// not disturbed by a parallel test. Run through scripts/bench.sh.
const port = Number(process.env.FIELDBOOK_BENCH_PORT ?? 8098);
const dataDir = path.join(os.tmpdir(), `fieldbook-bench-${process.pid}`);

export default defineConfig({
  testDir: './bench',
  testMatch: '**/*.bench.ts',
  // Its own output folder: the e2e suite's screenshots in test-results/ must survive a benchmark.
  outputDir: './bench-results',
  workers: 1,
  timeout: 30 * 60_000,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 390, height: 844 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: chromiumArgs,
    },
  },
  webServer: {
    command: `../target/release/fieldbook-server --listen 127.0.0.1:${port} --data-dir ${dataDir} --static-dir ../dist`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});

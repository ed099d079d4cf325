import { defineConfig } from '@playwright/test';
import { realServer } from './playwright.config';

// The benchmark: same real server and browser as the e2e suite, one worker so figures are
// not disturbed by a parallel test. Run through scripts/bench.sh.
const server = realServer(Number(process.env.FIELDBOOK_BENCH_PORT ?? 8098), 'bench');

export default defineConfig({
  testDir: './bench',
  testMatch: '**/*.bench.ts',
  // Its own output folder: the e2e suite's screenshots in test-results/ must survive a benchmark.
  outputDir: './bench-results',
  workers: 1,
  timeout: 30 * 60_000,
  reporter: [['list']],
  use: server.use,
  webServer: server.webServer,
});

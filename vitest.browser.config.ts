import { defineConfig } from 'vitest/config';

/** Tests that drive a real browser (headless Chromium): `npm run test:browser`. */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

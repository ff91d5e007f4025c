import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The AWS SDK release that runs on Node 20 warns about future releases; not for this project's output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // One BIND + Pebble lab for the integration tests (skipped when only unit tests run).
    globalSetup: ['test/lab/globalSetup.ts'],
    // The closing line "N passed, N failed, N skipped" after the usual report.
    reporters: ['default', './test/summary-reporter.ts'],
  },
});

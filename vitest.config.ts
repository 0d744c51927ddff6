import {defineConfig} from 'vitest/config'

// Unit tests need nothing. Integration tests (*.int.test.ts) talk to the real MariaDB and Kafka broker,
// which the global setup starts with the project's own scripts; a service that cannot start fails the run.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain "N passed, N failed" line; the Druid suite writes its own.
    reporters: ['default', ['json', {outputFile: process.env.MAU_TEST_REPORT ?? '.cache/test-results.json'}]],
    projects: [
      {test: {name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.int.test.ts', 'test/**/*.druid.test.ts']}},
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
          sequence: {groupOrder: 1},
        },
      },
      {
        // Opt-in (npm run test:druid): a real Druid from Maven Central, started by scripts/druid.sh.
        test: {
          name: 'druid',
          include: ['test/**/*.druid.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/druid-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          maxWorkers: 1,
          sequence: {groupOrder: 2},
        },
      },
    ],
  },
})

// Three suites with one runner: unit (pure, fast, no real parts), integration (real Docker engine,
// registry, sshd VMs and Temporal server from the lab), e2e (the built CLI against the lab).
const tsJest = ['ts-jest', { isolatedModules: true, diagnostics: false }];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Workflow code is measured where it runs, in the worker's sandbox (test/support/workflowCoverage.ts):
  // two instrumentations of one file do not merge.
  coveragePathIgnorePatterns: ['/node_modules/', '<rootDir>/src/workflows/'],
};
const lab = {
  globalSetup: '<rootDir>/test/lab/globalSetup.ts',
  globalTeardown: '<rootDir>/test/lab/globalTeardown.ts',
  setupFiles: ['<rootDir>/test/support/quietTemporal.ts'],
};
module.exports = {
  // The last line of a run that skipped tests counts them by reason; a skip with no reason fails it.
  reporters: ['default', '<rootDir>/test/support/durationReporter.js', '<rootDir>/test/support/skipReporter.js'],
  // `npm run coverage` only (scripts/coverage-by-folder prints the figures per folder of src/).
  collectCoverageFrom: ['<rootDir>/src/**/*.ts'],
  coverageReporters: ['json-summary', 'text-summary'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      ...lab,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/workflowCoverage.ts'],
      slowTestThreshold: 60,
    },
    { ...common, ...lab, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], slowTestThreshold: 300 },
  ],
};

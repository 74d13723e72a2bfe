// Three suites with one runner: unit (pure, fast, no real parts), integration (real Docker engine,
// registry, sshd VMs and Temporal server from the lab), e2e (the built CLI against the lab).
const tsJest = ['ts-jest', { isolatedModules: true, diagnostics: false }];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  // The last line of a run that skipped tests counts them by reason; a skip with no reason fails it.
  reporters: ['default', '<rootDir>/test/support/skipReporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/lab/globalSetup.ts',
      globalTeardown: '<rootDir>/test/lab/globalTeardown.ts',
      setupFiles: ['<rootDir>/test/support/quietTemporal.ts'],
      slowTestThreshold: 60,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/lab/globalSetup.ts',
      globalTeardown: '<rootDir>/test/lab/globalTeardown.ts',
      setupFiles: ['<rootDir>/test/support/quietTemporal.ts'],
      slowTestThreshold: 300,
    },
  ],
};

// Jest runs on the Node 24 pinned in devDependencies (npm scripts put node_modules/.bin first on PATH).
// NODE_OPTIONS=--experimental-vm-modules (set by the npm scripts) lets Jest require() the ESM-only
// @kubernetes/client-node natively, so the project itself stays CommonJS like cdk8s.
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
};

/** @type {import('jest').Config} */
const base = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  // Integration suites share one control plane per project; they run serially inside it.
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/construct/**/*.test.ts'] },
    { ...base, displayName: 'dask', testTimeout: 120_000, testMatch: ['<rootDir>/test/dask/**/*.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      // Tests wait on a real control plane; files that need longer set jest.setTimeout themselves.
      testTimeout: 120_000,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/setup/global-teardown.ts',
    },
    {
      ...base,
      // One real node (containerd, kubelet): hack/test.sh runs this project in a second Jest invocation, after the others.
      displayName: 'node',
      // (Per-test timeouts: each file calls jest.setTimeout; a project-level testTimeout did not apply here.)
      testMatch: ['<rootDir>/test/node/**/*.test.ts'],
      globalSetup: '<rootDir>/test/node/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/node/setup/global-teardown.ts',
    },
  ],
};

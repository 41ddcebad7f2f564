// One jest run, three kinds of tests: unit (*.spec.ts beside the code), integration (*.int-spec.ts, real
// PostgreSQL, NATS and S3 server) and end-to-end (e2e/*.e2e-spec.ts, the platform started as `npm start` does).
// The AWS SDK's notice about Node 20 would repeat in every suite; the machines here run Node 20 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const fs = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const transform = { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] };
const moduleNameMapper = {
  '^@docflow/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
  // Test doubles a library ships for other projects' tests (never imported by production code).
  '^@docflow/workflow-engine/testing$': '<rootDir>/libs/workflow-engine/src/argo/testing/fake-kube-api.ts',
  '^@docflow/agents/testing$': '<rootDir>/libs/agents/src/testing/openai-compatible-server.ts',
};
const common = {
  rootDir: __dirname,
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['<rootDir>/tools/jest/quiet-nest.js'],
  // Bundles (`nx build <app> -c production`: dist/bundles/<app>) hold copies of the libraries' package.json.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

module.exports = {
  reporters: ['default', '<rootDir>/tools/jest/summary-reporter.js'],
  // A global option (ignored inside `projects`): integration and end-to-end hooks start real services.
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/src/**/*.int-spec.ts', '<rootDir>/tools/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/tools/jest/services-setup.js',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/tools/jest/services-setup.js',
    },
  ],
};

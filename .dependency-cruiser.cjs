// The rooms of the code base, checked by `npm run check` (dependency-cruiser): each feature
// folder under src/ owns its tables and logic; common/ and config/ serve every feature and know
// none; the simulator, benchmarks and tests sit outside the service.
const FEATURES = '^src/(?!common/|config/)[^/]+/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules that import each other (directly or round about) cannot be read or tested apart.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-code-knows-no-feature',
      comment: 'common/ and config/ serve every feature, so they import none.',
      severity: 'error',
      from: { path: '^src/(common|config)/' },
      to: { path: FEATURES },
    },
    {
      name: 'database-knows-no-feature',
      comment: 'Each feature registers its own entities; database/ only connects and migrates.',
      severity: 'error',
      from: { path: '^src/database/' },
      to: { path: FEATURES, pathNot: '^src/database/' },
    },
    {
      name: 'sweep-and-api-apart',
      comment: 'The nightly sweep and the HTTP use cases share src/verification, not each other.',
      severity: 'error',
      from: { path: '^src/(integration|revalidation)/' },
      to: { path: '^src/(integration|revalidation)/', pathNot: '^src/$1/' },
    },
    {
      name: 'connection-knows-no-handoff',
      comment:
        'Handoffs depend on the connection (settings, verification, Microsoft clients), never the reverse: the connection tells them what happened through ConnectionHooks.',
      severity: 'error',
      from: { path: '^src/(settings|verification|integration|revalidation|microsoft|audit)/' },
      to: { path: '^src/handoff/' },
    },
    {
      name: 'service-without-test-code',
      comment: 'The service never imports the simulator, the benchmarks or the tests.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(sandbox|bench|test)/' },
    },
    {
      name: 'sandbox-stands-alone',
      comment: 'The simulator is Microsoft, not the service: it must not borrow the service’s code.',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: '^src/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};

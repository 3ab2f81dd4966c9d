// The rooms of the code base, checked by `npm run check` (dependency-cruiser): each feature
// folder under src/ owns its tables and logic; common/ and config/ serve every feature and know
// none; the simulator, benchmarks and tests sit outside the service. npm packages are in the
// graph too (not followed into), so rules can say who may import them.
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
      name: 'alerts-knows-no-callers',
      comment:
        'Alerts follow facts other rooms report (the connection hooks, AlertFacts); they never reach into handoffs, verification, integration or revalidation — those import alerts, not the reverse.',
      severity: 'error',
      from: { path: '^src/alerts/' },
      to: { path: '^src/(handoff|verification|integration|revalidation)/' },
    },
    {
      name: 'limits-knows-no-feature',
      comment:
        'The Dataverse call budget (src/limits) sits beneath the Microsoft clients that use it: it knows environments and slots, never handoffs, verification or Microsoft’s answers.',
      severity: 'error',
      from: { path: '^src/limits/' },
      to: { path: FEATURES, pathNot: '^src/(limits|database|metrics)/' },
    },
    {
      name: 'settings-knows-no-verification',
      comment:
        'The settings row stores what a verification found; verification reads and writes settings, never the reverse.',
      severity: 'error',
      from: { path: '^src/settings/' },
      to: { path: '^src/verification/' },
    },
    {
      name: 'database-behind-repositories',
      comment:
        'Only repositories, entities, modules and src/database/ reach PostgreSQL at run time (pg, typeorm, @nestjs/typeorm); everyone else asks a repository. Types (EntityManager in a signature) are free. The queue is pg-boss over the same pool; the CLIs are entry points that open a DataSource.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [
          '\\.(repository|entity|module)\\.ts$',
          '^src/database/',
          '^src/handoff/handoff-queue\\.ts$',
          '^src/cli/',
        ],
      },
      to: { path: '^node_modules/(pg|typeorm|@nestjs/typeorm|pg-boss)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'microsoft-behind-its-clients',
      comment:
        'Only src/microsoft/ talks to Microsoft: its HTTP transport (node:https, undici) and the key sets that check its tokens. eslint keeps fetch, node:http requests and jose’s createRemoteJWKSet out of the rest of src/. The one other sender is the alert sender, whose webhooks go to the org’s and the operator’s own endpoints (through a lookup that refuses private addresses).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/microsoft/|^src/alerts/alert-sender\\.ts$' },
      to: { path: '^node_modules/undici/|^https$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'console-knows-no-service',
      comment:
        'The console is a client of the HTTP API (its types come from the OpenAPI document), never of the service code.',
      severity: 'error',
      from: { path: '^console/' },
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
    exclude: { path: '^(dist|coverage)/' },
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

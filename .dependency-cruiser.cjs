// Import boundaries of the workspace, checked by `pnpm lint` (dependency-cruiser over the TypeScript
// sources, workspace packages resolved to their source through the `@jetmon/source` condition).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'packages-never-import-apps',
      comment:
        'Libraries do the work and apps compose them: a package that needs app code has its layering upside down.',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'vocabulary-imports-nothing-of-ours',
      comment: 'The vocabulary is the bottom layer every package shares: it depends on no workspace package.',
      severity: 'error',
      from: { path: '^packages/vocabulary/' },
      to: { path: '^(packages|apps)/', pathNot: '^packages/vocabulary/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle between modules makes load order matter and the pieces impossible to reuse apart.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'apps-ship-no-test-runner',
      comment:
        'What an app runs must not load vitest or the test kit: the demo runs on @jetmon/fixtures, which imports neither.',
      severity: 'error',
      from: { path: '^apps/[^/]+/src/', pathNot: '\\.test\\.ts$' },
      to: { path: ['node_modules/vitest/', '^packages/testkit/'] },
    },
    {
      name: 'apps-reach-the-database-through-packages',
      comment:
        'Apps keep configuration, arguments and composition: a query belongs in a library verb, so an app never imports the query builder or the driver.',
      severity: 'error',
      from: { path: '^apps/[^/]+/src/', pathNot: '\\.test\\.ts$' },
      to: { path: 'node_modules/(drizzle-orm|mysql2)/' },
    },
    {
      name: 'entries-export-no-underscore-file',
      comment:
        'A file named _x.ts is private to its package; what a package offers lives in files with public names, which its entry points re-export.',
      severity: 'error',
      from: { path: '^(packages|apps)/[^/]+/src/(index|protocol|cli)\\.ts$' },
      to: { path: '/_[^/]+\\.ts$' },
    },
    {
      name: 'fixtures-without-vitest',
      comment:
        'The fixtures are what the demo and the benchmarks run: they load without a test runner or the test kit.',
      severity: 'error',
      from: { path: '^packages/fixtures/src/' },
      to: { path: ['node_modules/vitest/', '^packages/testkit/'], reachable: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(packages|apps)/[^/]+/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@jetmon/source', 'import', 'types', 'default'],
      mainFields: ['module', 'main', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
}

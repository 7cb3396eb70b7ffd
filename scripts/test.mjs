#!/usr/bin/env node
// `npm test` after set-up (scripts/run.mjs): lint, typecheck, every vitest project against the real
// database, then the fault suite. Ends with the line CI reads: `tests: N passed, M failed`.
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const passthrough = process.argv.slice(2)
const results = join(root, '.jetmon', 'test-results.json')
const faultResults = join(root, '.jetmon', 'fault-results.json')
mkdirSync(dirname(results), { recursive: true })
rmSync(results, { force: true })
rmSync(faultResults, { force: true })

// Node.js keeps the code it compiled on disk and reuses it in the next process: the tests start the
// binaries hundreds of times, each loading the same modules.
const env = { NODE_COMPILE_CACHE: join(root, '.jetmon', 'compile-cache'), ...process.env }

const run = (label, cmd, args) => {
  process.stdout.write(`\n\x1b[36m▸ ${label}\x1b[0m\n`)
  const started = Date.now()
  const { status } = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env })
  const ok = status === 0
  process.stdout.write(
    `${ok ? '\x1b[32m✓' : '\x1b[31m✖'} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)\x1b[0m\n`,
  )
  return ok
}

// Static checks count as one test each, so a lint or type error can never hide behind a green line.
const checks = passthrough.length
  ? []
  : [
      run('lint (biome)', 'pnpm', ['exec', 'biome', 'check', '.']),
      run('import boundaries (dependency-cruiser)', 'pnpm', ['run', '--silent', 'lint:boundaries']),
      run('docs (links, placeholders, generated pages)', 'node', ['scripts/check-docs.mjs']),
      run('typecheck (tsc, one program for the workspace)', 'pnpm', ['run', '--silent', 'typecheck']),
      run('package exports (publint)', 'pnpm', ['exec', 'turbo', 'run', 'publint', '--output-logs=errors-only']),
    ]

/**
 * Starts a step in the background with its output kept in `log`; resolves (true when it passed)
 * once it has ended and its output has been printed. Its exit is only seen once the step running
 * in the foreground has ended, so its own duration is the one its output reports.
 */
const start = (label, cmd, args, log) => {
  const fd = openSync(log, 'w')
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: root, env })
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      closeSync(fd)
      const ok = code === 0
      process.stdout.write(`\n\x1b[36m▸ ${label}\x1b[0m\n${readFileSync(log, 'utf8')}`)
      process.stdout.write(
        `${ok ? '\x1b[32m✓' : '\x1b[31m✖'} ${label} (ran beside the tests; its own duration is above)\x1b[0m\n`,
      )
      resolve(ok)
    })
  })
}

// The fault suite (`pnpm test:faults`): real processes killed and a database crashed on purpose,
// on a MariaDB of its own. It prints a line per scenario and `faults: N scenarios, L lost, D duplicates`.
// It runs beside the vitest run, not after it: its scenarios spend most of their time waiting (for
// a killed process's lease to expire, for the database to come back), so the whole run is shorter
// by about its length. Its output is printed once the vitest run has ended.
const faults = passthrough.length
  ? null
  : start(
      'fault suite',
      'pnpm',
      [
        'exec',
        'vitest',
        'run',
        '--config',
        'packages/e2e/vitest.faults.config.ts',
        '--reporter=default',
        '--reporter=./packages/e2e/faults/reporter.ts',
        '--reporter=json',
        `--outputFile.json=${faultResults}`,
      ],
      join(root, '.jetmon', 'fault-suite.log'),
    )

const vitestOk = run('tests (vitest)', 'pnpm', [
  'exec',
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${results}`,
  ...passthrough,
])
const faultsOk = faults === null ? true : await faults

let passed = checks.filter(Boolean).length
let failed = checks.filter((ok) => !ok).length
for (const [file, ok] of passthrough.length
  ? [[results, vitestOk]]
  : [
      [results, vitestOk],
      [faultResults, faultsOk],
    ]) {
  let counted = 0
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'))
    passed += report.numPassedTests
    failed += report.numFailedTests
    counted = report.numFailedTests
    // A file that fails to load has no tests to count but is a failure all the same.
    const unloaded = report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length
    failed += unloaded
    counted += unloaded
  } catch {
    failed += 1 // vitest did not get as far as writing its report
    counted = 1
  }
  if (!ok && counted === 0) failed += 1
}

process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`)
process.exit(failed === 0 && vitestOk && faultsOk ? 0 : 1)

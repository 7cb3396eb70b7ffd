/**
 * docs/rollout.md cannot drift from the commands: the quick reference's two command blocks run
 * with bash against a real API (before and after the range is activated), and every
 * `rollout <command>` the page names is a command of this build. No monitor runs: the test stands
 * in for the api-controlled host in the database.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { outputByCommand, runShellExample } from '@jetmon/testkit'
import { afterAll, describe, expect, onTestFinished, test } from 'vitest'
import { apiCommand } from '../src/api.js'
import { listCommands } from '../src/commands/catalog.js'
import { rolloutCli, useRolloutServer } from './_rollout-server.js'

const server = useRolloutServer()
const api = rolloutCli(server)
const home = mkdtempSync(join(tmpdir(), 'jetmon-rollout-docs-'))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const JETMON2 = join(import.meta.dirname, '..', '..', 'jetmon2', 'src', 'cli.ts')
const ROOT = join(import.meta.dirname, '..', '..', '..')
const page = readFileSync(join(ROOT, 'docs/rollout.md'), 'utf8')
const quickReference = page.slice(page.indexOf('## Quick reference'))
const blocks = [...quickReference.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!)

async function runBlock(script: string) {
  const s = server()
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JETMON_API_')))
  const result = await runShellExample(script, {
    binaries: { jetmon2: JETMON2 },
    baseEnv,
    env: { HOME: home, JETMON_API_CONFIG: 'off', JETMON_API_URL: s.url, JETMON_API_TOKEN_FILE: s.tokenFiles.admin },
    cwd: ROOT,
  })
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  const printed = outputByCommand(result.stdout)
  // Standard output is not a terminal here, so each command prints one JSON document.
  return (command: string) => {
    const key = [...printed.keys()].find((line) => line === command)
    expect(key, `the quick reference runs \`${command}\``).toBeDefined()
    return JSON.parse(printed.get(key as string) as string)
  }
}

describe('docs/rollout.md', () => {
  test('every rollout command it names exists', async () => {
    const commands = new Set((await listCommands(apiCommand)).map((entry) => entry.command))
    const named = new Set([...page.matchAll(/rollout ((?:session )?[a-z][a-z-]*)/g)].map((match) => match[1]!))
    expect(named.size).toBeGreaterThan(15)
    for (const name of named) expect(commands, `rollout ${name}`).toContain(`rollout ${name}`)
  })

  test('the quick reference runs as it is written: looking before, and after the activation', {
    timeout: 300_000,
  }, async () => {
    expect(blocks).toHaveLength(2)
    const s = server()
    await s.insertSites({ min: 0, max: 99 }, 5)
    await s.insertSites({ min: 0, max: 99 }, 1, { siteStatus: 0 })
    await s.upsertHost('host-b', 'api-controlled')
    // The host heartbeats while the blocks run, as a running monitor would (they take longer than a lease).
    const heartbeat = setInterval(() => void s.actAsHost('host-b'), 2_000)
    onTestFinished(() => clearInterval(heartbeat))

    const before = await runBlock(blocks[0]!)
    expect(before('jetmon2 api rollout capabilities')).toMatchObject({ bucket_total: 1000, token_ttl_sec: 600 })
    expect(before('jetmon2 api rollout status').ranges).toEqual([expect.objectContaining({ owner: { kind: 'v1' } })])
    expect(before('jetmon2 api rollout preflight --bucket-min 0 --bucket-max 99 --host host-b')).toMatchObject({
      ok: true,
    })
    expect(before('jetmon2 api rollout smoke --bucket-min 0 --bucket-max 99')).toMatchObject({
      summary: { checked: 6 },
    })
    expect(before('jetmon2 api rollout adopt --bucket-min 0 --bucket-max 99')).toMatchObject({
      dry_run: true,
      blocked: [],
      plan: { adopt: { seems_down: 1, down: 0 } },
    })
    expect(before('jetmon2 api rollout activate --bucket-min 0 --bucket-max 99 --host host-b')).toMatchObject({
      dry_run: true,
      blocked: [],
    })
    expect(before('jetmon2 api rollout guided --bucket-min 0 --bucket-max 99 --host host-b --dry-run')).toMatchObject({
      outcome: 'planned',
    })
    // Looking changed nothing: no event, no lock.
    expect(await s.query('SELECT id FROM jetmon_events')).toEqual([])
    expect(await s.query('SELECT id FROM jetmon_rollout_locks')).toEqual([])

    // The operator adopts and activates, the host takes the range up and checks it, one stage is applied.
    const adopted = await api(['rollout', 'adopt', '--bucket-min', '0', '--bucket-max', '99', '--execute', '--yes'])
    expect(adopted.code, adopted.stderr).toBe(0)
    const activated = await api([
      'rollout',
      'activate',
      '--bucket-min',
      '0',
      '--bucket-max',
      '99',
      '--host',
      'host-b',
      '--execute',
      '--yes',
    ])
    expect(activated.code, activated.stderr).toBe(0)
    await s.actAsHost('host-b', { check: true })
    await s.query(
      "INSERT INTO jetmon_endpoint_config (endpoint_id, request_method, detection_profile) SELECT jetpack_monitor_site_id, 'HEAD', 'legacy' FROM jetpack_monitor_sites WHERE bucket_no BETWEEN 0 AND 99",
    )
    const staged = await api([
      'rollout',
      'stage',
      '--bucket-min',
      '0',
      '--bucket-max',
      '99',
      '--to',
      'GET/simple_http',
      '--size',
      '2',
      '--execute',
      '--yes',
    ])
    expect(staged.code, staged.stderr).toBe(0)

    const after = await runBlock(blocks[1]!)
    expect(after('jetmon2 api rollout reconcile --bucket-min 0 --bucket-max 99')).toMatchObject({ passed: true })
    expect(
      after(
        'jetmon2 api rollout stage --bucket-min 0 --bucket-max 99 --from HEAD/legacy --to GET/simple_http --size 10',
      ),
    ).toMatchObject({ dry_run: true, plan: { selected: 4 } })
    expect(after('jetmon2 api rollout stages --bucket-min 0 --bucket-max 99').data).toHaveLength(1)
    expect(after('jetmon2 api rollout rollback-all --bucket-min 0 --bucket-max 99')).toMatchObject({
      plan: { restore: 2 },
    })
    expect(after('jetmon2 api rollout release --bucket-min 0 --bucket-max 99')).toMatchObject({
      dry_run: true,
      blocked: [],
    })
    expect(await s.query('SELECT state FROM jetmon_rollout_locks')).toEqual([{ state: 'active' }])
  })
})

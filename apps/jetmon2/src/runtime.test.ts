import { describe, expect, it } from 'vitest'
import {
  checkingProcessLaunch,
  HEAP_GROWING_PERCENT,
  heapGrowthFlag,
  MAX_SEMI_SPACE_MB,
  relaunchTuned,
  TUNED_ENV,
} from './runtime.js'

describe('checkingProcessLaunch', () => {
  it('adds the young-generation cap to what the process was started with, and says so in its environment', () => {
    const launch = checkingProcessLaunch(['--import', 'tsx'], { PATH: '/bin' })
    expect(launch.execArgv).toEqual(['--import', 'tsx', `--max-semi-space-size=${MAX_SEMI_SPACE_MB}`])
    expect(launch.env).toEqual({ PATH: '/bin', [TUNED_ENV]: '1' })
  })

  it("keeps the operator's own settings, from the command line or NODE_OPTIONS, in either spelling", () => {
    expect(checkingProcessLaunch(['--max-semi-space-size=64'], {}).execArgv).toEqual(['--max-semi-space-size=64'])
    expect(checkingProcessLaunch(['--max_semi_space_size', '8'], {}).execArgv).toEqual(['--max_semi_space_size', '8'])
    const env = { NODE_OPTIONS: '--trace-warnings --max-semi-space-size=32' }
    expect(checkingProcessLaunch([], env).execArgv).toEqual([])
  })

  it('changes nothing with JETMON_RUNTIME_TUNED=off', () => {
    const env = { [TUNED_ENV]: 'off' }
    expect(checkingProcessLaunch(['--expose-gc'], env)).toEqual({ execArgv: ['--expose-gc'], env })
    expect(heapGrowthFlag([], env)).toBeNull()
  })
})

describe('relaunchTuned', () => {
  const proc = (env: NodeJS.ProcessEnv, calls: unknown[][]) => ({
    env,
    execArgv: ['--enable-source-maps'],
    argv: ['/usr/bin/node', '/opt/jetmon2/dist/cli.js', 'serve', '--config', 'jetmon2.json'],
    execPath: '/usr/bin/node',
    execve: ((...args: unknown[]) => {
      calls.push(args)
    }) as never,
  })

  it('re-executes the same program with the settings, once', () => {
    const calls: unknown[][] = []
    relaunchTuned(proc({ HOME: '/root' }, calls))
    expect(calls).toEqual([
      [
        '/usr/bin/node',
        [
          '/usr/bin/node',
          '--enable-source-maps',
          `--max-semi-space-size=${MAX_SEMI_SPACE_MB}`,
          '/opt/jetmon2/dist/cli.js',
          'serve',
          '--config',
          'jetmon2.json',
        ],
        { HOME: '/root', [TUNED_ENV]: '1' },
      ],
    ])
    relaunchTuned(proc(calls[0]![2] as NodeJS.ProcessEnv, calls))
    relaunchTuned(proc({ [TUNED_ENV]: 'off' }, calls))
    expect(calls).toHaveLength(1)
  })

  it('goes on as it is where Node.js has no process.execve, or it fails', () => {
    const { execve: _, ...old } = proc({}, [])
    expect(() => relaunchTuned(old)).not.toThrow()
    const failing = {
      ...old,
      execve: (() => {
        throw new Error('ERR_FEATURE_UNAVAILABLE_ON_PLATFORM')
      }) as never,
    }
    expect(() => relaunchTuned(failing)).not.toThrow()
  })
})

describe('heapGrowthFlag', () => {
  it('bounds the growth unless the process was started with its own bound', () => {
    expect(heapGrowthFlag([], {})).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
    expect(heapGrowthFlag(['--heap-growing-percent=20'], {})).toBeNull()
  })
})

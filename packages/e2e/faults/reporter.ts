/**
 * Prints one line per fault scenario and the suite's summary, from what each scenario recorded in
 * its test's `meta.faults` (see `record` in the scenarios):
 *
 *   fault ✓ monitor killed during confirmation: 0 lost, 0 duplicates (14.2 s)
 *   faults: 7 scenarios, 0 lost, 1 duplicates
 */
import type { Reporter, TestModule } from 'vitest/node'
import type { Ledger } from '../src/harness.js'

declare module 'vitest' {
  interface TaskMeta {
    faults?: Ledger
  }
}

export default class FaultReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let scenarios = 0
    let lost = 0
    let duplicates = 0
    const lines: string[] = []
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'skipped') continue // left out with -t: neither run nor counted
        scenarios++
        const ledger = test.meta().faults
        const seconds = ((test.diagnostic()?.duration ?? 0) / 1000).toFixed(1)
        if (ledger) {
          lost += ledger.lost
          duplicates += ledger.duplicates
        }
        const counts = ledger ? `${ledger.lost} lost, ${ledger.duplicates} duplicates` : 'no count recorded'
        const mark = state === 'passed' ? '✓' : '✗'
        const detail = ledger?.detail ? ` — ${ledger.detail}` : ''
        lines.push(`fault ${mark} ${test.name}: ${counts} (${seconds} s)${detail}`)
        if (state === 'failed' && !ledger) lost++ // a scenario that broke off proved nothing: count it
      }
    }
    process.stdout.write(
      `\n${lines.join('\n')}\nfaults: ${scenarios} scenarios, ${lost} lost, ${duplicates} duplicates\n`,
    )
  }
}

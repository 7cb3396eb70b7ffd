import { formatIssue } from '@jetmon/config'
import { defineCommand } from 'citty'
import { configArg } from '../_command-config.js'
import { serverTlsFromConfig } from '../_tls.js'
import { checkerFromConfig } from '../checker.js'
import { loadVeriflier2Config, type Veriflier2Config } from '../config.js'
import { CheckerSetupError, CommandError, TlsSetupError } from '../errors.js'

export type Verdict = 'PASS' | 'INFO' | 'WARN' | 'FAIL'
export interface Finding {
  verdict: Verdict
  topic: string
  message: string
}

const DAY_MS = 86_400_000
const isLoopback = (address: string) => address === 'localhost' || address === '::1' || address.startsWith('127.')

function checkTls(config: Veriflier2Config, add: (verdict: Verdict, topic: string, message: string) => void): void {
  let tls: ReturnType<typeof serverTlsFromConfig>
  try {
    tls = serverTlsFromConfig(config)
  } catch (error) {
    if (!(error instanceof TlsSetupError)) throw error
    add('FAIL', 'tls', `${error.path}: ${error.message}`)
    return
  }
  if (!tls) {
    if (isLoopback(config.BIND)) add('INFO', 'tls', `plain HTTP on ${config.BIND} (loopback only)`)
    else
      add(
        'WARN',
        'tls',
        `plain HTTP on ${config.BIND}: monitors' tokens and sites' custom headers cross the network unencrypted; set TLS_CERT_FILE and TLS_KEY_FILE (or keep a TLS proxy in front)`,
      )
    return
  }
  const days = Math.floor((tls.validTo.getTime() - Date.now()) / DAY_MS)
  const what = `${config.TLS_CERT_FILE} (${tls.subject}${tls.names ? `; ${tls.names}` : ''})`
  if (days < 0) add('FAIL', 'tls', `TLS_CERT_FILE: ${what} expired on ${tls.validTo.toISOString()}`)
  else if (days < 14) add('WARN', 'tls', `HTTPS with ${what}, which expires in ${days} day(s): renew it`)
  else add('PASS', 'tls', `HTTPS with ${what}, valid until ${tls.validTo.toISOString().slice(0, 10)}`)
}

/** Every finding about a veriflier configuration; nothing is started, no port is opened. */
export function validateConfiguration(options: {
  file?: string | undefined
  env?: NodeJS.ProcessEnv | undefined
}): Finding[] {
  const findings: Finding[] = []
  const add = (verdict: Verdict, topic: string, message: string) => findings.push({ verdict, topic, message })
  const loaded = loadVeriflier2Config({
    ...(options.file ? { file: options.file } : {}),
    ...(options.env ? { env: options.env } : {}),
  })
  for (const warning of loaded.warnings) add('WARN', 'config', formatIssue(warning))
  if (!loaded.ok) {
    for (const issue of loaded.issues) add('FAIL', 'config', formatIssue(issue))
    return findings
  }
  const config = loaded.config
  const from = loaded.sources.file ?? 'no file (environment and defaults)'
  const env = loaded.sources.env.length ? ` + environment (${loaded.sources.env.join(', ')})` : ''
  add('PASS', 'config', `valid: ${from}${env}`)
  add('INFO', 'identity', `${config.VERIFLIER_ID} in region ${config.VERIFLIER_REGION}`)
  add('INFO', 'listen', `${config.BIND}:${config.PORT}, at most ${config.MAX_CONCURRENCY} checks at a time`)
  checkTls(config, add)
  add(
    'PASS',
    'tokens',
    config.VERIFLIER_TOKENS.length === 1
      ? '1 token accepted'
      : `${config.VERIFLIER_TOKENS.length} tokens accepted (rotation: remove the old one once every monitor uses the new one)`,
  )
  try {
    checkerFromConfig(config)
    add(
      'PASS',
      'checker',
      `DNS ${config.DNS_SERVERS ? config.DNS_SERVERS.join(', ') : 'from /etc/resolv.conf'}${config.CA_FILE ? `, extra CA from ${config.CA_FILE}` : ''}`,
    )
  } catch (error) {
    if (!(error instanceof CheckerSetupError)) throw error
    add('FAIL', 'checker', `${error.path ? `${error.path}: ` : ''}${error.message}`)
  }
  return findings
}

export default defineCommand({
  meta: {
    name: 'validate-config',
    description: 'Check the configuration without starting anything; exit 1 on any FAIL',
  },
  args: { ...configArg, json: { type: 'boolean', description: 'Print the findings as JSON' } },
  run({ args }) {
    const findings = validateConfiguration({ file: args.config })
    const failed = findings.filter((f) => f.verdict === 'FAIL').length
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ok: failed === 0, findings })}\n`)
    } else {
      const width = Math.max(...findings.map((f) => f.topic.length))
      for (const f of findings) process.stdout.write(`${f.verdict}  ${f.topic.padEnd(width)}  ${f.message}\n`)
      const warned = findings.filter((f) => f.verdict === 'WARN').length
      process.stdout.write(`\n${failed} failure(s), ${warned} warning(s)\n`)
    }
    if (failed) throw new CommandError(`${failed} check(s) failed`, { exitCode: 1 })
  },
})

import { formatIssue, formatIssues } from '@jetmon/config'
import { type Jetmon2Config, loadJetmon2Config } from './config.js'
import { CommandError } from './errors.js'

export const configArg = {
  config: { type: 'string', description: 'Config file (default: JETMON_CONFIG or config/config.json)' },
} as const

/**
 * Loads and validates the configuration for a command: warnings (unknown keys) go to stderr,
 * problems stop the command with every `path: message` listed.
 */
export function loadCommandConfig(args: { config?: string | undefined }): Jetmon2Config {
  const result = loadJetmon2Config(args.config ? { file: args.config } : {})
  for (const warning of result.warnings) process.stderr.write(`warning: ${formatIssue(warning)}\n`)
  if (!result.ok) {
    throw new CommandError(`the configuration has ${result.issues.length} problem(s):\n${formatIssues(result.issues)}`)
  }
  return result.config
}

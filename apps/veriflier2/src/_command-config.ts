import { formatIssue, formatIssues } from '@jetmon/config'
import { loadVeriflier2Config, type Veriflier2Config } from './config.js'
import { CommandError } from './errors.js'

export const configArg = {
  config: { type: 'string', description: 'Config file (default: VERIFLIER_CONFIG or config/veriflier.json)' },
} as const

/**
 * Loads and validates the configuration for a command: warnings (unknown keys) go to stderr,
 * problems stop the command with every `path: message` listed (exit 1).
 */
export function loadCommandConfig(args: { config?: string | undefined }): Veriflier2Config {
  const result = loadVeriflier2Config(args.config ? { file: args.config } : {})
  for (const warning of result.warnings) process.stderr.write(`warning: ${formatIssue(warning)}\n`)
  if (!result.ok) {
    throw new CommandError(`the configuration has ${result.issues.length} problem(s):\n${formatIssues(result.issues)}`)
  }
  return result.config
}

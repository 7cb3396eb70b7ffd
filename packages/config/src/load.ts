import { readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import * as v from 'valibot'
import { coerceEnvValue } from './_env.js'
import { parseJson } from './_json.js'
import { arrayItemOf, configEntries, entriesOf } from './_schema.js'
import { ConfigSchemaError } from './errors.js'
import { builtInMessage, type ConfigIssue, describeValue, isSecretPath, pathToString } from './issues.js'
import { closestKey } from './suggest.js'

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions<TSchema extends v.GenericSchema> {
  /** An object schema (optionally piped with cross-field checks and transforms). */
  schema: TSchema
  /** Path of the JSON file to read; none means environment variables and defaults only. */
  file?: string | undefined
  /**
   * Whether a missing file is an error. Set it when the operator named the file explicitly; a
   * default path that does not exist simply means "use the defaults".
   */
  required?: boolean | undefined
  /** Where overrides come from (default `process.env`). Only names of top-level keys are read. */
  env?: Readonly<Record<string, string | undefined>> | undefined
  /**
   * Paths whose values must never appear in messages, in pino `redact.paths` syntax
   * (`AUTH_TOKEN`, `VERIFLIERS[*].token`).
   */
  secrets?: readonly string[] | undefined
  /**
   * Warning messages for keys that are not in the schema but that operators may still have in
   * their files, such as settings of an older release:
   * `{ NET_COMMS_TIMEOUT: 'old setting, ignored: use CHECK_TIMEOUT_MS (milliseconds) instead' }`.
   */
  hints?: Readonly<Record<string, string>> | undefined
  /**
   * Deprecated names of keys, old name → current name: `{ DB_UPDATES_ENABLE: 'LEGACY_STATUS_PROJECTION_ENABLE' }`.
   * An old name is read from the file and the environment like its key, and applies only when the
   * current name is set nowhere (the current name wins when both are); either way a warning names
   * the current key.
   */
  aliases?: Readonly<Record<string, string>> | undefined
}

/** Where the loaded values came from, for a start-up log line. */
export interface ConfigSources {
  /** The file that was read, or undefined when there was none. */
  file: string | undefined
  /** The environment variables that overrode (or supplied) a key. */
  env: string[]
}

/**
 * Outcome of {@link loadConfig}. Problems are data: `issues` (fatal, one per problem, all of them at
 * once) and `warnings` (unknown keys, which are ignored).
 */
export type LoadConfigResult<TConfig> =
  | { ok: true; config: TConfig; warnings: ConfigIssue[]; sources: ConfigSources }
  | { ok: false; issues: ConfigIssue[]; warnings: ConfigIssue[]; sources: ConfigSources }

// Tags issues raised by valibot's own schemas and actions, so that we can word them ourselves
// once the full path is known (and leave messages written by the schema author alone).
const BUILT_IN = '\u0000built-in'

/**
 * Loads a configuration: the JSON file if there is one, then each top-level key overridden by the
 * environment variable of the same name, validated with the schema (defaults applied).
 *
 * Environment values are strings and are converted to the type the key expects: numbers, booleans
 * (`true`/`false`, `1`/`0`, `yes`/`no`), JSON for lists and objects. An empty variable counts as
 * unset, because container tooling often renders a missing value as `KEY=`.
 *
 * A missing file, bad JSON, wrong values and unknown keys are returned as data; it throws only
 * for bugs (a schema that is not an object schema, see `ConfigSchemaError`).
 */
export function loadConfig<TSchema extends v.GenericSchema>(
  options: LoadConfigOptions<TSchema>,
): LoadConfigResult<v.InferOutput<TSchema>> {
  const { schema, file, required = false, env = process.env, secrets = [], hints = {}, aliases = {} } = options
  const entries = configEntries(schema)
  for (const [alias, target] of Object.entries(aliases)) {
    if (!(target in entries) || alias in entries) {
      throw new ConfigSchemaError(`alias ${alias} must name a key of the schema (${target}) and not be one itself`)
    }
  }
  const warnings: ConfigIssue[] = []
  const sources: ConfigSources = { file: undefined, env: [] }
  const fail = (issues: ConfigIssue[]) => ({ ok: false as const, issues, warnings, sources })

  let input: Record<string, unknown> = {}
  if (file !== undefined) {
    const read = readConfigFile(file, required)
    if ('issue' in read) return fail([read.issue])
    if (read.value !== undefined) {
      const { $schema: _editorHint, ...values } = read.value
      input = values
      sources.file = file
      const known = { ...input }
      for (const alias of Object.keys(aliases)) delete known[alias]
      collectUnknownKeys(known, schema, '', warnings, hints)
    }
  }

  const issues: ConfigIssue[] = []
  const fromEnv = new Set<string>()
  const unusable = new Set<string>()
  for (const [key, entry] of Object.entries(entries)) {
    const raw = env[key]
    if (raw === undefined || raw === '') continue
    fromEnv.add(key)
    sources.env.push(key)
    const coerced = coerceEnvValue(raw, entry, !isSecretPath(key, secrets))
    if (coerced.ok) {
      input[key] = coerced.value
      collectUnknownKeys(coerced.value, entry, key, warnings, {})
    } else {
      unusable.add(key)
      issues.push({ path: key, message: `${coerced.message} (from environment variable ${key})` })
    }
  }

  // Old names: each applies when its current name is set nowhere (neither in the file nor the environment).
  const givenAs = new Map<string, string>()
  for (const [alias, target] of Object.entries(aliases)) {
    const raw = env[alias]
    const inEnv = raw !== undefined && raw !== ''
    if (!inEnv && !(alias in input)) continue
    if (inEnv) sources.env.push(alias)
    if (input[target] !== undefined || unusable.has(target)) {
      warnings.push({
        path: alias,
        message: `deprecated name of ${target}, ignored because ${target} is also set: remove it`,
      })
      delete input[alias]
      continue
    }
    warnings.push({ path: alias, message: `deprecated name of ${target}, applied: rename it to ${target}` })
    givenAs.set(target, alias)
    if (inEnv) {
      fromEnv.add(target)
      const coerced = coerceEnvValue(raw, entries[target] as v.GenericSchema, !isSecretPath(target, secrets))
      if (coerced.ok) input[target] = coerced.value
      else {
        unusable.add(target)
        issues.push({ path: alias, message: `${coerced.message} (from environment variable ${alias})` })
      }
    } else input[target] = input[alias]
    delete input[alias]
  }

  const result = v.safeParse(schema, input, { message: () => BUILT_IN })
  for (const issue of result.issues ?? []) {
    const key = issue.path?.[0]?.key
    if (typeof key === 'string' && unusable.has(key)) continue
    const alias = typeof key === 'string' ? givenAs.get(key) : undefined
    // Reported under the name the operator wrote.
    const path = alias ? pathToString(issue.path).replace(key as string, alias) : pathToString(issue.path)
    let message = issue.message === BUILT_IN ? builtInMessage(issue, !isSecretPath(path, secrets)) : issue.message
    if (typeof key === 'string' && fromEnv.has(key)) message += ` (from environment variable ${alias ?? key})`
    if (!issues.some((known) => known.path === path && known.message === message)) issues.push({ path, message })
  }

  if (issues.length > 0 || !result.success) return fail(issues)
  return { ok: true, config: result.output, warnings, sources }
}

type FileRead = { value: Record<string, unknown> | undefined } | { issue: ConfigIssue }

function readConfigFile(file: string, required: boolean): FileRead {
  const where = isAbsolute(file) ? '' : ` (relative to the working directory ${process.cwd()})`
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      if (!required) return { value: undefined }
      return { issue: { path: file, message: `config file not found${where}; check the path` } }
    }
    if (code === 'EACCES') {
      return { issue: { path: file, message: 'config file is not readable by this user (permission denied)' } }
    }
    if (code === 'EISDIR') return { issue: { path: file, message: 'is a directory, not a config file' } }
    return { issue: { path: file, message: `cannot read the config file: ${(error as Error).message}` } }
  }
  const parsed = parseJson(text)
  if (!parsed.ok) {
    return {
      issue: {
        path: `${file}:${parsed.line}:${parsed.column}`,
        message: `not valid JSON at line ${parsed.line}, column ${parsed.column}: ${parsed.reason}`,
      },
    }
  }
  const value = parsed.value
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      issue: {
        path: file,
        message: `must contain a JSON object such as {"LOG_LEVEL": "info"}, found ${describeValue(value)}`,
      },
    }
  }
  return { value: value as Record<string, unknown> }
}

/** Warns about keys the schema does not know, at any depth of objects and lists of objects. */
function collectUnknownKeys(
  value: unknown,
  schema: v.GenericSchema,
  path: string,
  warnings: ConfigIssue[],
  hints: Readonly<Record<string, string>>,
): void {
  if (Array.isArray(value)) {
    const item = arrayItemOf(schema)
    if (!item) return
    for (const [index, element] of value.entries()) {
      collectUnknownKeys(element, item, `${path}[${index}]`, warnings, hints)
    }
    return
  }
  const entries = entriesOf(schema)
  if (!entries || typeof value !== 'object' || value === null) return
  const known = Object.keys(entries)
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key
    const entry = entries[key]
    if (entry) {
      collectUnknownKeys(child, entry, childPath, warnings, hints)
      continue
    }
    const hint = path === '' ? hints[key] : undefined
    const suggestion = closestKey(key, known)
    const message = hint
      ? hint
      : suggestion
        ? `unknown key, ignored; did you mean ${suggestion}?`
        : 'unknown key, ignored (keys are case-sensitive; check the spelling)'
    warnings.push({ path: childPath, message })
  }
}

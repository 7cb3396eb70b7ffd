/** `jetmon2 api commands`: every command of the tree, with a one-line description and an example. */
import type { CommandDef } from 'citty'
import { catalogInfo, defineApiCommand, printData } from '../_command.js'
import { routeOf } from '../_session.js'
import { formatTable } from '../output.js'

/** Examples of the commands that predate the catalog (they keep no catalog entry of their own). */
const LOCAL_CONFIG_EXAMPLES: Record<string, string> = {
  'local-config path': 'jetmon2 api local-config path',
  'local-config init': 'jetmon2 api local-config init --url https://jetmon.example.com',
  'local-config show': 'jetmon2 api local-config show --output json --pretty',
  'local-config set': 'jetmon2 api local-config set token_file ~/.config/jetmon2/token',
  'local-config unset': 'jetmon2 api local-config unset timeout',
  'local-config keys': 'jetmon2 api local-config keys',
}

const SCOPE_ORDER = ['none', 'read', 'write', 'admin'] as const

/** One command as the catalog lists it. */
export interface CatalogEntry {
  command: string
  description: string
  example: string
  examples: string[]
  /**
   * The highest scope among the routes it calls; `local` for commands that only touch this host,
   * `any` for `request` (whatever the path needs).
   */
  scope: string
  writes: boolean
  routes: { id: string; method: string; path: string }[]
}

async function resolve<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : await value
}

/** Walks a command tree depth first and lists its leaves. */
export async function listCommands(root: CommandDef): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = []
  async function walk(command: CommandDef, path: string[]) {
    const subCommands = await resolve(command.subCommands)
    if (subCommands && Object.keys(subCommands).length > 0) {
      for (const [name, sub] of Object.entries(subCommands))
        await walk(await resolve(sub as CommandDef), [...path, name])
      return
    }
    const name = path.join(' ')
    const meta = await resolve(command.meta)
    const info = catalogInfo(command)
    const examples = info ? [...info.examples] : LOCAL_CONFIG_EXAMPLES[name] ? [LOCAL_CONFIG_EXAMPLES[name]] : []
    const routes = (info?.routes ?? []).map((id) => {
      const route = routeOf(id)
      return { id, method: route?.method ?? '?', path: route?.path ?? '(not in this build)' }
    })
    const scopes = (info?.routes ?? []).map((id) => routeOf(id)?.scope ?? 'none')
    const scope = info?.routes
      ? (SCOPE_ORDER.filter((s) => scopes.includes(s)).at(-1) ?? 'none')
      : (info?.scope ?? 'local')
    entries.push({
      command: name,
      description: meta?.description ?? '',
      example: examples[0] ?? '',
      examples,
      scope,
      writes: info?.writes ?? false,
      routes,
    })
  }
  await walk(root, [])
  return entries
}

export const commands = defineApiCommand({
  name: 'commands',
  description: 'List every api command with a one-line description and an example',
  examples: ['jetmon2 api commands', 'jetmon2 api commands --output json | jq -r ".[].command"'],
  async run({ session }) {
    const { apiCommand } = await import('../api.js')
    const entries = await listCommands(apiCommand)
    printData(session, entries, () =>
      formatTable(
        ['command', 'scope', 'writes', 'description', 'example'],
        entries.map((e) => [e.command, e.scope, e.writes ? 'yes' : 'no', e.description, e.example]),
      ),
    )
  },
})

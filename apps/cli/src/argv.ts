/**
 * Connection and output flags may come before the subcommand (`jetmon2 api --url U --token-file F
 * sites list`) as well as after it. citty takes the first word that is not a flag for the
 * subcommand's name, so a flag's value would be read as a command ("Unknown command http://…") and
 * flags before the subcommand would never reach it. {@link placeGlobalFlags} moves them behind the
 * command they are meant for before citty reads the line.
 */
import type { ArgsDef, CommandDef } from 'citty'
import { globalArgs, writeArgs } from './_command.js'

type Lazy<T> = T | Promise<T> | (() => T | Promise<T>)

async function resolve<T>(value: Lazy<T>): Promise<T> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : await value
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** Every spelling of the global flags, and whether the flag takes a value. */
function globalFlagSpellings(): Map<string, boolean> {
  const spellings = new Map<string, boolean>()
  const all: ArgsDef = { ...globalArgs, ...writeArgs }
  for (const [name, def] of Object.entries(all)) {
    const takesValue = def.type === 'string' || def.type === 'enum'
    spellings.set(name, takesValue)
    if (def.type === 'boolean') spellings.set(`no-${name}`, false)
  }
  return spellings
}

/**
 * The words after `jetmon2 api`, with every global flag (and its value) that stands before the
 * command it belongs to moved to just after that command's name. Words after the command, and
 * anything that is not a global flag, keep their place. Without a command to hand them to (no
 * subcommand at all), the global flags are left out, so the operator hears "no command", not
 * "unknown command <their URL>".
 */
export async function placeGlobalFlags(api: CommandDef, words: readonly string[]): Promise<string[]> {
  const spellings = globalFlagSpellings()
  const flags: string[] = []
  const path: string[] = []
  let command: CommandDef = api
  let i = 0
  for (; i < words.length; i++) {
    const word = words[i]!
    if (word === '--') break
    if (word.startsWith('--')) {
      const [name, inline] = word.slice(2).split(/=(.*)/s) as [string, string | undefined]
      const takesValue = spellings.get(kebab(name))
      if (takesValue === undefined) {
        path.push(word) // `--help` and friends: citty and the runner read them wherever they are
        continue
      }
      flags.push(word)
      if (takesValue && inline === undefined && i + 1 < words.length) flags.push(words[++i]!)
      continue
    }
    path.push(word)
    if (word.startsWith('-')) continue
    const subCommands = command.subCommands ? await resolve(command.subCommands) : undefined
    const next = subCommands && word in subCommands ? await resolve(subCommands[word]!) : undefined
    // An unknown name, or a leaf: its own words follow, and the global flags go first among them.
    if (!next?.subCommands) {
      i++
      return [...path, ...flags, ...words.slice(i)]
    }
    command = next
  }
  return [...path, ...words.slice(i)]
}

/**
 * A whole `jetmon2` command line made ready for citty: for `jetmon2 api …`, the global flags moved
 * behind their command (see {@link placeGlobalFlags}); any other command line as it is.
 */
export async function prepareCommandLine(argv: readonly string[]): Promise<string[]> {
  if (argv[0] !== 'api') return [...argv]
  const { apiCommand } = await import('./api.js')
  return ['api', ...(await placeGlobalFlags(apiCommand, argv.slice(1)))]
}

/**
 * What a guided rollout leaves on the operator's machine: a transcript (every line shown, every
 * question and answer, timestamped) and a resume file (where the run stopped, the session, and an
 * execution in flight), both readable by their owner only (0600) in a directory of mode 0700.
 */
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** `$XDG_STATE_HOME/jetmon2/rollout`, else `~/.local/state/jetmon2/rollout`. */
export function defaultLogDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const state = env.XDG_STATE_HOME || join(home, '.local', 'state')
  return join(state, 'jetmon2', 'rollout')
}

/** Where a run keeps its state: one resume file, one transcript, by session name. */
export interface GuidedStore {
  readonly resumePath: string
  readonly transcriptPath: string
  load(): unknown
  save(state: unknown): void
  clear(): void
  /** Appends one line (or several) to the transcript. */
  record(text: string): void
}

/** A session name as part of a file name: letters, digits, `.`, `_`, `-`. */
export function fileStem(session: string): string {
  return session.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'rollout'
}

function privateFile(path: string): void {
  // A file created by an earlier version, or touched by someone, is narrowed again.
  chmodSync(path, 0o600)
}

/** The store of one session in `dir` (created 0700 when missing). */
export function fileStore(dir: string, session: string, clock: () => Date = () => new Date()): GuidedStore {
  const stem = fileStem(session)
  const resumePath = join(dir, `${stem}.resume.json`)
  const transcriptPath = join(dir, `${stem}.transcript.log`)
  const ensureDir = () => mkdirSync(dir, { recursive: true, mode: 0o700 })
  return {
    resumePath,
    transcriptPath,
    load() {
      if (!existsSync(resumePath)) return null
      return JSON.parse(readFileSync(resumePath, 'utf8')) as unknown
    },
    save(state) {
      ensureDir()
      // Written beside it and renamed, so a crash never leaves half a resume file.
      const next = `${resumePath}.${process.pid}.tmp`
      writeFileSync(next, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
      privateFile(next)
      renameSync(next, resumePath)
    },
    clear() {
      rmSync(resumePath, { force: true })
    },
    record(text) {
      ensureDir()
      const at = clock().toISOString()
      const lines = text
        .split('\n')
        .map((line) => `${at} ${line}`)
        .join('\n')
      appendFileSync(transcriptPath, `${lines}\n`, { mode: 0o600 })
      privateFile(transcriptPath)
    },
  }
}

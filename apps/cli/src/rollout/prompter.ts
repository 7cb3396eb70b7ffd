/**
 * How rollout commands ask a person something: one question, one typed line back. Commands take a
 * {@link Prompter}, so tests (and rehearsals) answer from a script instead of a terminal.
 */
import { createInterface } from 'node:readline'
import { terminalSafe } from '../output.js'

export interface Prompter {
  /** Whether a person can answer: a terminal, or answers that were explicitly scripted. */
  readonly interactive: boolean
  /** Shows the question and resolves with the line typed, or `null` when no answer will come (input closed). */
  ask(question: string): Promise<string | null>
  /** Lets the process exit (stops reading the input). */
  close(): void
}

/**
 * A prompter over a line-oriented input: the terminal (`interactive` when it is one), or a file or
 * pipe of answers. Questions go to `output` (stderr), so standard output stays the command's data.
 * The input is opened on the first question, so commands that never ask never hold stdin.
 */
export function linePrompter(
  options: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream; interactive?: boolean } = {},
): Prompter {
  const input = options.input ?? process.stdin
  const output = options.output ?? process.stderr
  const lines: string[] = []
  const waiting: ((line: string | null) => void)[] = []
  let closed = false
  let reader: ReturnType<typeof createInterface> | undefined
  const open = () => {
    if (reader) return
    reader = createInterface({ input, terminal: false })
    reader.on('line', (line) => {
      const next = waiting.shift()
      if (next) next(line)
      else lines.push(line)
    })
    reader.on('close', () => {
      closed = true
      for (const next of waiting.splice(0)) next(null)
    })
  }
  return {
    interactive: options.interactive ?? (input as { isTTY?: boolean }).isTTY === true,
    ask(question) {
      output.write(terminalSafe(question))
      open()
      const line = lines.shift()
      if (line !== undefined) return Promise.resolve(line)
      if (closed) return Promise.resolve(null)
      return new Promise((resolve) => waiting.push(resolve))
    },
    close() {
      reader?.close()
      if (input === process.stdin) process.stdin.unref?.()
    },
  }
}

/** Answers from a list, in order, for tests: each question is recorded; past the end, `null`. */
export function scriptedPrompter(answers: readonly string[]): Prompter & { questions: string[] } {
  const queue = [...answers]
  const questions: string[] = []
  return {
    interactive: true,
    questions,
    ask(question) {
      questions.push(question)
      return Promise.resolve(queue.shift() ?? null)
    },
    close() {},
  }
}

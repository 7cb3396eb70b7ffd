import { readFile } from 'node:fs/promises'
import { UsageError } from './errors.js'

/** Reads a file named on the command line, or standard input for `-`, as UTF-8 text. */
export async function readInput(path: string): Promise<string> {
  if (path === '-') {
    if (process.stdin.isTTY) process.stderr.write('reading standard input; end it with Ctrl-D\n')
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(
      `${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`,
    )
  }
}

#!/usr/bin/env node
// Docs check, run by `pnpm lint`: every relative link in a Markdown file of the repository points at a
// file that exists (and, with a #fragment into a Markdown file, at a heading that exists), no page
// carries a placeholder where a figure or a decision belongs, docs/configuration.md matches the
// configuration schemas and the package map of docs/architecture.md matches the package.json files.
// No code comment cites a design document kept outside the repository.
// Prints one `path:line: problem` per finding and exits 1 when any.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const skipped = new Set(['node_modules', '.git', '.turbo', '.jetmon', 'dist', 'coverage'])

function* markdownFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipped.has(entry.name)) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* markdownFiles(path)
    else if (entry.name.endsWith('.md')) yield path
  }
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-')

const anchorsOf = (text) =>
  new Set(
    text
      .replace(/```[\s\S]*?```/g, '')
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => slug(line.replace(/^#+ /, ''))),
  )

// Words that mark unfinished text, and the benchmark placeholders that once stood in for figures.
const placeholder = /\bMEASURED_[A-Z_]+\b|\bTODO\b|\bTBD\b|\bXXX\b/

const problems = []
for (const file of markdownFiles(root)) {
  const text = readFileSync(file, 'utf8')
  const where = relative(root, file)
  const lines = text.split('\n')
  let fenced = false
  lines.forEach((line, index) => {
    if (/^\s*```/.test(line)) fenced = !fenced
    const hit = placeholder.exec(line)
    if (hit) problems.push(`${where}:${index + 1}: placeholder ${hit[0]}`)
    if (fenced) return
    // [text](target) and [label]: target; inline code is left out so examples are not links.
    const prose = line.replace(/`[^`]*`/g, '')
    const targets = [
      ...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
      ...prose.matchAll(/^\s*\[[^\]]+\]:\s+(\S+)/g),
    ]
    for (const [, target] of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue // URL, mailto:
      const [pathPart, fragment] = target.split('#')
      const resolved = pathPart ? resolve(dirname(file), decodeURIComponent(pathPart)) : file
      if (!resolved.startsWith(root) || !existsSync(resolved)) {
        problems.push(`${where}:${index + 1}: dead link ${target}`)
        continue
      }
      if (fragment && resolved.endsWith('.md') && statSync(resolved).isFile()) {
        if (!anchorsOf(readFileSync(resolved, 'utf8')).has(fragment.toLowerCase()))
          problems.push(`${where}:${index + 1}: no heading #${fragment} in ${relative(root, resolved)}`)
      }
    }
  })
}

// Code comments explain in place or point at a page of this repository (docs/…, a README), never at
// documents kept outside it: a bare design-document name (the events or API page of another tree)
// or a `spec/` path is a pointer nobody can follow from a checkout.
const outsideDocument =
  /(?:^|[^/\w.-])(?:spec\/[\w-]+\.md|(?:api|events|delivery|monitor|checks|cli|dashboard|data-model|performance|rollout|slo|style)\.md)\b/

function* codeFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipped.has(entry.name)) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* codeFiles(path)
    else if (/\.(?:[cm]?[jt]s|tsx)$/.test(entry.name)) yield path
  }
}

for (const folder of ['apps', 'packages', 'scripts']) {
  for (const file of codeFiles(join(root, folder))) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        const hit = outsideDocument.exec(line)
        if (hit) problems.push(`${relative(root, file)}:${index + 1}: points outside the repository: ${hit[0].trim()}`)
      })
  }
}

// The generated pages: the configuration reference and the package map of docs/architecture.md.
for (const generator of ['config-reference.mjs', 'package-map.mjs']) {
  const run = spawnSync(process.execPath, [join(root, 'scripts', generator), '--check'], { encoding: 'utf8' })
  if (run.status !== 0) problems.push(run.stderr.trim() || `scripts/${generator} --check failed`)
}

for (const problem of problems) process.stderr.write(`${problem}\n`)
if (problems.length > 0) {
  process.stderr.write(`docs check: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`)
  process.exit(1)
}
process.stdout.write('docs check: links and placeholders fine, generated pages current\n')

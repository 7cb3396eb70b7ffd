/** `pnpm --filter @jetmon/dashboard run build:assets`: rebuilds `assets/` from `src/client/`. */
import { writeFileSync } from 'node:fs'
import { ASSETS_DIR, bundleAssets } from './_bundle.js'

const files = await bundleAssets()
for (const [name, body] of files) {
  writeFileSync(`${ASSETS_DIR}${name}`, body)
  process.stdout.write(`assets/${name}  ${(body.length / 1024).toFixed(1)} KiB\n`)
}

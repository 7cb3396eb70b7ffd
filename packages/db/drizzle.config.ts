import { defineConfig } from 'drizzle-kit'

// `pnpm schema:generate` writes a new reviewed migration into the repository's migrations/ folder.
export default defineConfig({
  dialect: 'mysql',
  schema: './src/schema.ts',
  out: process.env.JETMON_MIGRATIONS_OUT ?? '../../migrations',
  breakpoints: true,
})

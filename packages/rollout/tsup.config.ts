import { defineConfig } from 'tsup'
import { internal } from '../../tsup.base.ts'

export default defineConfig(internal)

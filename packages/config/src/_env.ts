import type * as v from 'valibot'
import { parseJson } from './_json.js'
import { type AcceptedValues, acceptedValues } from './_schema.js'

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const BOOLEANS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false }

/** Outcome of turning one environment string into the value the schema expects. */
export type Coercion = { ok: true; value: unknown } | { ok: false; message: string }

function wanted(accepted: AcceptedValues): string {
  const parts = [
    ...[...accepted.literals].map((literal) => JSON.stringify(literal)),
    ...(accepted.number ? ['a number'] : []),
    ...(accepted.boolean ? ['true or false (or 1/0, yes/no)'] : []),
    ...(accepted.array ? ['a JSON array such as ["a","b"]'] : []),
    ...(accepted.object ? ['a JSON object such as {"key":"value"}'] : []),
  ]
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)}` : (parts[0] ?? 'a value')
}

/**
 * Environment variables are strings; this turns one into the type its schema entry expects:
 * exact literals first (`"auto"`), then JSON for lists and objects, numbers, booleans, and finally
 * the string itself when the schema takes strings. `showValue` is false for secrets.
 */
export function coerceEnvValue(raw: string, schema: v.GenericSchema, showValue: boolean): Coercion {
  const accepted = acceptedValues(schema)
  const text = raw.trim()
  if (accepted.literals.has(raw)) return { ok: true, value: raw }
  if ((accepted.array || accepted.object || accepted.anything) && /^[[{]/.test(text)) {
    const parsed = parseJson(text)
    if (parsed.ok) return { ok: true, value: parsed.value }
    // Never echo the text: a list of verifliers carries their tokens.
    return { ok: false, message: `is not valid JSON: ${parsed.reason} (at character ${parsed.offset + 1})` }
  }
  if (accepted.number && NUMERIC.test(text)) return { ok: true, value: Number(text) }
  const flag = BOOLEANS[text.toLowerCase()]
  if (accepted.boolean && flag !== undefined) return { ok: true, value: flag }
  if (accepted.string) return { ok: true, value: raw }
  if (accepted.anything) {
    const parsed = parseJson(text)
    return { ok: true, value: parsed.ok ? parsed.value : raw }
  }
  const got = showValue && !(accepted.array || accepted.object) ? `, got ${JSON.stringify(raw)}` : ''
  return { ok: false, message: `expected ${wanted(accepted)}${got}` }
}

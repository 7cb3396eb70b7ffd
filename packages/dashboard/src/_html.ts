/**
 * HTML built by tagged templates that escape every interpolated value, so that data from the
 * database (URLs, error details, consumer names) can never become markup. Only values that are
 * already {@link SafeHtml} (built by {@link html}) pass through unchanged.
 */

/** Markup that is safe to emit as it is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

/** What a template accepts: text (escaped), numbers, markup, nothing (`null`, `undefined`, `false`), or lists of these. */
export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[]

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value
  if (value === null || value === undefined || value === false) return ''
  if (Array.isArray(value)) return value.map(render).join('')
  return escapeHtml(String(value))
}

/** `html\`<td>${url}</td>\``: a template whose values are escaped (lists are concatenated). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + (strings[i + 1] ?? '')
  return new SafeHtml(out)
}

/**
 * A JSON document for a `<script type="application/json">` block (data, never executed, so the
 * CSP allows it): `<`, `>`, `&` and the JavaScript line separators are escaped so the text cannot
 * close the element.
 */
export function jsonScript(id: string, value: unknown): SafeHtml {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
  return new SafeHtml(`<script type="application/json" id="${escapeHtml(id)}">${text}</script>`)
}

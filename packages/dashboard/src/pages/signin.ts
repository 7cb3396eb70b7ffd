/** The sign-in form (non-loopback binds) and the error pages. */
import { html, type SafeHtml } from '../_html.js'

/** The sign-in card; `problem` explains a refused key. */
export function signinBody(input: { bind: string; next: string; problem: string | null }): SafeHtml {
  return html`<section class="signin panel">
  <h1>Sign in to the dashboard</h1>
  <p>This dashboard listens on <code>${input.bind}</code>, which other machines can reach, so it asks for an
  API key with <strong>read</strong> scope. You stay signed in for 12 hours (less if the key expires sooner); the browser keeps only a session id, never the key.</p>
  ${input.problem ? html`<p class="flag" role="alert">${input.problem}</p>` : ''}
  <form method="post" action="/signin" class="signin-form">
    <label for="key">API key</label>
    <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" required placeholder="jm_…" autofocus>
    <input type="hidden" name="next" value="${input.next}">
    <button type="submit">Sign in</button>
  </form>
  <p class="sub">No key? An operator creates one on a monitor host with
  <code>jetmon2 keys create --consumer your-name --scope read</code>.</p>
</section>`
}

/** Why a key was refused, for a person. */
export function refusalText(reason: 'invalid' | 'revoked' | 'expired' | 'scope' | 'missing'): string {
  switch (reason) {
    case 'missing':
      return 'Paste an API key to sign in.'
    case 'invalid':
      return 'That key is not known here. Check that it was copied whole (it starts with jm_).'
    case 'revoked':
      return 'That key has been revoked. Ask for a new one.'
    case 'expired':
      return 'That key has expired. Ask for a new one.'
    case 'scope':
      return 'That key may not read. Use a key with read scope or higher.'
  }
}

/** A short error page. */
export function errorBody(title: string, text: string): SafeHtml {
  return html`<section class="panel error-page"><h1>${title}</h1><p>${text}</p><p><a href="/">Back to the overview</a></p></section>`
}

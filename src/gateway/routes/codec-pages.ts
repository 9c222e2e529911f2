/**
 * The two small pages of `/codec/session`: a form to paste a token, and what to set in the
 * Temporal Web UI once the browser is signed in. No script, no external resources.
 */

const STYLE =
  'body{font:15px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}' +
  'input{font:inherit;width:100%;padding:.4rem;margin:.5rem 0}button{font:inherit;padding:.4rem 1rem}' +
  'code{background:#f3f3f3;padding:0 .2rem}';

function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title><style>${STYLE}</style></head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

const WEB_UI_STEPS = `<ol>
<li>In the Temporal Web UI, open the <b>Codec Server</b> settings (the data encoder icon at the top right).</li>
<li>Set the endpoint to this gateway's <code>/codec</code> URL, e.g. <code>http://127.0.0.1:8080/codec</code>.</li>
<li>Tick <b>Include cross-origin credentials</b> and <b>Use my browser setting and ignore Cluster-level setting</b>, and apply.</li>
</ol>
<p>Open the Web UI and this gateway under the same host name (both <code>127.0.0.1</code> or both <code>localhost</code>): the browser sends the cookie only within one site.</p>`;

/** The form: paste a token with the payloads:decode scope. */
export function sessionPage(): string {
  return page(
    'Decode payloads in the Temporal Web UI',
    `<p>idflow encrypts what Temporal stores about each run. To read it in the Temporal Web UI, sign this browser in with an idflow API token that has the <code>payloads:decode</code> scope (<code>idflow tokens create --name &lt;you&gt; --scopes payloads:decode</code>). The token is kept in a cookie only this gateway's <code>/codec</code> paths receive, for 8 hours; every decode is audited under the token's name.</p>
<form method="post" action="session"><label>API token<input type="password" name="token" autocomplete="off" required></label><button type="submit">Sign in</button></form>
<p>Then:</p>${WEB_UI_STEPS}`,
  );
}

/** After signing in: the Web UI's settings. */
export function signedInPage(tokenName: string): string {
  return page(
    'Signed in for decoding',
    `<p>This browser now decodes payloads as token <code>${escape(tokenName)}</code> for 8 hours (revoking the token ends it at once).</p>${WEB_UI_STEPS}`,
  );
}

// An outside relying party for opsiam: panva's openid-client (a certified
// OpenID Connect client) runs discovery, the code flow with PKCE, refresh,
// userinfo and RP-initiated logout. The Go test cmd/opsiam/oidc_node_test.go
// plays the browser: this script prints one JSON object per line on stdout
// and reads the browser's answers (one line each) on stdin.
//
// With --confidential it is a web application with a client secret: it
// first listens for back-channel logout tokens and prints that URL, reads
// its client secret, runs the same flow, then waits for the logout token of
// its session, verifies it with jose (openid-client's own JOSE library)
// against the provider's JWKS, and checks that its refresh token stopped.
//
// usage: node rp.mjs ISSUER CLIENT_ID REDIRECT_URI POST_LOGOUT_URI [--confidential]
import * as client from 'openid-client'
import * as jose from 'jose'
import * as http from 'node:http'
import * as readline from 'node:readline'

const [issuer, clientId, redirectUri, postLogoutUri, mode] = process.argv.slice(2)
const confidential = mode === '--confidential'
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const ask = async (obj) => {
  say(obj)
  const { value, done } = await lines.next()
  if (done) throw new Error('the test closed stdin')
  return value.trim()
}

// listenForLogout serves POST /backchannel (OpenID Connect Back-Channel
// Logout 1.0 §2.5) and resolves each logout_token it receives.
function listenForLogout() {
  const tokens = []
  let wake = () => {}
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/backchannel') {
      res.writeHead(404).end()
      return
    }
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token')
      res.writeHead(token ? 200 : 400, { 'Cache-Control': 'no-store' }).end()
      if (token) {
        tokens.push(token)
        wake()
      }
    })
  })
  const next = () =>
    tokens.length ? Promise.resolve(tokens.shift()) : new Promise((r) => (wake = () => r(tokens.shift())))
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, next })))
}

async function main() {
  // A public client has no secret, so PKCE (S256) is what protects the
  // code; a confidential one authenticates with HTTP Basic too.
  let auth = client.None()
  let logouts
  if (confidential) {
    logouts = await listenForLogout()
    const { port } = logouts.server.address()
    const secret = await ask({ step: 'listening', url: `http://127.0.0.1:${port}/backchannel` })
    auth = client.ClientSecretBasic(secret)
  }
  const options = new URL(issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined
  // RP_ALG: the client's id_token_signed_response_alg (ES256, EdDSA), which
  // openid-client then requires of every ID token.
  const metadata = process.env.RP_ALG ? { id_token_signed_response_alg: process.env.RP_ALG } : undefined
  const config = await client.discovery(new URL(issuer), clientId, metadata, auth, options)
  const meta = config.serverMetadata()
  if (meta.issuer !== issuer) throw new Error(`discovered issuer ${meta.issuer}`)

  const codeVerifier = client.randomPKCECodeVerifier()
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier)
  const state = client.randomState()
  const nonce = client.randomNonce()
  const authorize = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  const callback = await ask({ step: 'authorize', url: authorize.href })

  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  const refreshedClaims = refreshed.claims()
  if (!refreshed.refresh_token || refreshed.refresh_token === tokens.refresh_token) {
    throw new Error('the refresh token was not rotated')
  }
  let reuse = 'accepted'
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token)
  } catch (e) {
    reuse = e.error || e.code || String(e)
  }

  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token,
    post_logout_redirect_uri: postLogoutUri,
    state: 'bye',
  })
  say({
    step: 'done',
    alg: JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url').toString()).alg,
    claims,
    userinfo,
    refreshed_sub: refreshedClaims?.sub,
    refreshed_sid: refreshedClaims?.sid,
    reuse,
    logout: logout.href,
  })
  if (!confidential) return

  // The test follows the logout URL in the browser; the provider's outbox
  // then posts our logout token.
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('no back-channel logout token within 20 s')), 20000).unref(),
  )
  const raw = await Promise.race([logouts.next(), timeout])
  const jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri))
  const { payload, protectedHeader } = await jose.jwtVerify(raw, jwks, {
    issuer: meta.issuer,
    audience: clientId,
    typ: 'logout+jwt',
  })
  const event = payload.events && payload.events['http://schemas.openid.net/event/backchannel-logout']
  if (!event || payload.nonce !== undefined) throw new Error(`not a logout token: ${JSON.stringify(payload)}`)
  let afterLogout = 'accepted'
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token)
  } catch (e) {
    afterLogout = e.error || e.code || String(e)
  }
  logouts.server.close()
  say({ step: 'logged_out', logout_sub: payload.sub, logout_sid: payload.sid, typ: protectedHeader.typ, refresh_after_logout: afterLogout })
}

main().then(
  () => process.exit(0),
  (e) => {
    say({ step: 'error', error: String(e && (e.stack || e)), cause: e && e.cause ? String(e.cause) : undefined })
    process.exit(1)
  },
)

// An outside relying party for opsiam: panva's openid-client (a certified
// OpenID Connect client) runs discovery, the code flow with PKCE, refresh,
// userinfo and RP-initiated logout. The Go test cmd/opsiam/oidc_node_test.go
// plays the browser: this script prints one JSON object per line on stdout
// and reads the browser's answers (one line each) on stdin.
//
// usage: node rp.mjs ISSUER CLIENT_ID REDIRECT_URI POST_LOGOUT_URI
import * as client from 'openid-client'
import * as readline from 'node:readline'

const [issuer, clientId, redirectUri, postLogoutUri] = process.argv.slice(2)
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const ask = async (obj) => {
  say(obj)
  const { value, done } = await lines.next()
  if (done) throw new Error('the test closed stdin')
  return value.trim()
}

async function main() {
  // A public client: no secret, so PKCE (S256) is what protects the code.
  const options = new URL(issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), options)
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
    claims,
    userinfo,
    refreshed_sub: refreshedClaims?.sub,
    refreshed_sid: refreshedClaims?.sid,
    reuse,
    logout: logout.href,
  })
}

main().then(
  () => process.exit(0),
  (e) => {
    say({ step: 'error', error: String(e && (e.stack || e)), cause: e && e.cause ? String(e.cause) : undefined })
    process.exit(1)
  },
)

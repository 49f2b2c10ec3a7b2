// A relying party written the way openid-client v6's own documentation
// shows it, run against Propusk by cmd/propusk/interop_test.go. It talks
// JSON lines: it prints {"authorize": url}, reads the callback URL the
// browser reached on standard input, then prints what the provider said.
//
// Environment: PROPUSK_ISSUER, PROPUSK_CLIENT_ID, PROPUSK_REDIRECT_URI,
// PROPUSK_RP_AUTH (private_key_jwt | client_secret_post | client_secret_basic),
// PROPUSK_RP_JWK (the private JWK, for private_key_jwt) or PROPUSK_RP_SECRET.
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const env = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}

const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

async function clientAuthentication() {
  switch (env('PROPUSK_RP_AUTH')) {
    case 'private_key_jwt': {
      const jwk = JSON.parse(env('PROPUSK_RP_JWK'))
      const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
      // The assertion's audience is openid-client's default: the issuer.
      return client.PrivateKeyJwt({ key, kid: jwk.kid })
    }
    case 'client_secret_post':
      return client.ClientSecretPost(env('PROPUSK_RP_SECRET'))
    case 'client_secret_basic':
      return client.ClientSecretBasic(env('PROPUSK_RP_SECRET'))
    default:
      throw new Error('unknown PROPUSK_RP_AUTH')
  }
}

async function main() {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  const redirectURI = env('PROPUSK_REDIRECT_URI')
  const config = await client.discovery(
    new URL(env('PROPUSK_ISSUER')),
    env('PROPUSK_CLIENT_ID'),
    undefined,
    await clientAuthentication(),
    { execute: [client.allowInsecureRequests] }, // the test's issuer is http on loopback
  )

  // As the documentation shows it: PKCE, and state only when the server
  // does not support PKCE.
  const codeVerifier = client.randomPKCECodeVerifier()
  const parameters = {
    redirect_uri: redirectURI,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  }
  let state
  if (!config.serverMetadata().supportsPKCE()) {
    state = client.randomState()
    parameters.state = state
  }
  say({ authorize: client.buildAuthorizationUrl(config, parameters).href, state: state ?? null })

  const { value: callback, done } = await lines.next()
  if (done) throw new Error('no callback URL on standard input')
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  const introspected = await client.tokenIntrospection(config, tokens.access_token)
  await client.tokenRevocation(config, tokens.access_token)
  const afterRevocation = await client.tokenIntrospection(config, tokens.access_token)
  say({
    sub: claims.sub,
    iss: claims.iss,
    userinfo_sub: userinfo.sub,
    introspected_active: introspected.active,
    introspected_client_id: introspected.client_id ?? null,
    revoked_active: afterRevocation.active,
  })
}

main().then(
  () => process.exit(0),
  (err) => {
    say({ error: err.message, code: err.code ?? null, oauth_error: err.error ?? null, status: err.status ?? null })
    process.exit(1)
  },
)

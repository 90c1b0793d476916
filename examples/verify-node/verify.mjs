// Verifies a Latchkey access token in your own service, with the public keys alone.
//
//   LATCHKEY_URL=http://localhost:8000 node verify.mjs <access token> [--check-session]
//
// The token may also come on standard input. Prints the claims; exits 0 when the token is valid
// (and, with --check-session, its session still live), 1 when it is not, 2 when its session has
// ended, 3 when Latchkey could not be asked. In a service, import verifyAccessToken/sessionIsLive.
import { pathToFileURL } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const LATCHKEY_URL = process.env.LATCHKEY_URL ?? 'http://localhost:8000';

// One key set per process. It keeps the keys for `cacheMaxAge` (here JWKS_MAX_AGE, 300 s, so a
// key retired by hand stops verifying here as soon as it would anywhere) and fetches them again,
// at most every 30 s, when a token names a `kid` it has not seen: that is how a rotated key arrives.
const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', LATCHKEY_URL), {
  cacheMaxAge: 300_000,
});

/** The token's claims ({ sub, sid, username, ... }) if Latchkey signed it and it is valid now; throws otherwise. */
export async function verifyAccessToken(token) {
  const { payload } = await jwtVerify(token, jwks, {
    issuer: 'latchkey',
    audience: process.env.JWT_AUDIENCE ?? 'latchkey',
    algorithms: ['EdDSA', 'ES256'], // never HS256 or none: the key decides, not the token
    typ: 'at+jwt',
    requiredClaims: ['sub', 'sid', 'exp', 'iat', 'jti'],
    clockTolerance: 5,
  });
  return payload;
}

/**
 * Whether the token's session is still live (signed out or revoked sessions are not). A valid
 * token keeps verifying until its `exp`; ask this where a revocation must count at once.
 */
export async function sessionIsLive(token) {
  const res = await fetch(new URL('/session', LATCHKEY_URL), {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status === 200) return true;
  if (res.status === 401) return false;
  throw new Error(`GET /session answered ${res.status}: try again later`);
}

async function main() {
  let token = process.argv.slice(2).find((arg) => !arg.startsWith('--'));
  if (!token) {
    token = '';
    for await (const chunk of process.stdin) token += chunk;
  }
  token = token.trim();
  let claims;
  try {
    claims = await verifyAccessToken(token);
  } catch (e) {
    console.log(`invalid: ${e.code ?? e.name}`);
    return 1;
  }
  console.log(JSON.stringify(claims));
  if (!process.argv.includes('--check-session')) return 0;
  try {
    if (await sessionIsLive(token)) return 0;
    console.log('session ended');
    return 2;
  } catch (e) {
    console.log(`unknown: ${e.message}`);
    return 3;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();

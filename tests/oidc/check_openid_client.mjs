// openid-client (Node), with its default validation, against a live Latchkey: discovery, the code flow with
// PKCE (the person's part in Chromium, person.mjs), the ID token, userinfo, refresh with rotation and reuse
// detection, prompt=none, remembered consent, revocation, introspection, RP-initiated logout, and the negatives.
// Plain HTTP on 127.0.0.1 is the one thing allowed that the library refuses by default (allowInsecureRequests).
// Usage: node check_openid_client.mjs   (env: ISSUER, APP_URL, CALLBACK, CLIENTS (a JSON file), SCRATCH)
// Last line: `N passed, M failed`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import { browse, closeBrowsers, signUp } from './person.mjs';

const { ISSUER, APP_URL, CALLBACK, CLIENTS, SCRATCH, ALT_ALG = 'EdDSA' } = process.env;
const clients = JSON.parse(readFileSync(CLIENTS, 'utf8'));
const redirectUri = `${CALLBACK}/callback`;
const postLogoutUri = `${CALLBACK}/signed-out`;
const password = 'correct horse battery staple';
const username = `node_${Date.now().toString(36)}`;
const profile = join(SCRATCH, `chromium-${username}`);

let passed = 0;
let failed = 0;
async function check(name, fn) {
	try {
		await fn();
		passed += 1;
		console.log(`ok - ${name}`);
	} catch (error) {
		failed += 1;
		console.log(`FAILED - ${name}: ${error?.stack ?? error}`);
	}
}
function assert(condition, message) {
	if (!condition) throw new Error(message);
}
/** Runs `fn`, which must throw; returns the error for more checks. */
async function rejects(fn, what) {
	try {
		await fn();
	} catch (error) {
		return error;
	}
	throw new Error(`expected a rejection: ${what}`);
}
const errorCode = (error) => error?.error ?? error?.cause?.error ?? error?.code;

const insecure = { execute: [client.allowInsecureRequests] };
let config;
let publicConfig;

/** Authorization URL for `cfg`, the person's part in Chromium, and the browser's final URL. */
async function authorize(cfg, { scope = 'openid profile email offline_access', extra = {}, consent = 'allow', who = profile, redirect = redirectUri } = {}) {
	const verifier = client.randomPKCECodeVerifier();
	const state = client.randomState();
	const nonce = client.randomNonce();
	const url = client.buildAuthorizationUrl(cfg, {
		redirect_uri: redirect,
		scope,
		code_challenge: await client.calculatePKCECodeChallenge(verifier),
		code_challenge_method: 'S256',
		state,
		nonce,
		...extra
	});
	const seen = await browse(who, url.href, { username, password, consent, stop: CALLBACK });
	return { verifier, state, nonce, seen, url: seen.url && new URL(seen.url) };
}

const grant = (cfg, flow, checks = {}) =>
	client.authorizationCodeGrant(cfg, flow.url, {
		pkceCodeVerifier: flow.verifier,
		expectedState: flow.state,
		expectedNonce: flow.nonce,
		idTokenExpected: true,
		...checks
	});

let tokens;
let first;
await check('discovery: the issuer and the endpoints, as openid-client reads them', async () => {
	config = await client.discovery(new URL(ISSUER), clients.node.client_id, undefined, client.ClientSecretBasic(clients.node.client_secret), insecure);
	const meta = config.serverMetadata();
	assert(meta.issuer === ISSUER, `issuer ${meta.issuer} is not ${ISSUER}`);
	assert(meta.code_challenge_methods_supported?.includes('S256'), 'S256 is not offered');
	assert(meta.end_session_endpoint, 'no end_session_endpoint');
	publicConfig = await client.discovery(new URL(ISSUER), clients.public.client_id, { id_token_signed_response_alg: ALT_ALG }, client.None(), insecure);
});

await check('sign-up in the app (the person has an account and is signed in in this browser)', async () => {
	await signUp(profile, APP_URL, username, password);
});

await check('code flow with PKCE: consent shown with the app name and scopes, Allow, code back with state and iss', async () => {
	first = await authorize(config);
	assert(first.seen.ended === 'application', `ended at ${JSON.stringify(first.seen)}`);
	assert(first.seen.consent, 'no consent page');
	assert(first.seen.heading?.includes('Node test app'), `consent heading: ${first.seen.heading}`);
	assert(first.seen.scopes.some((s) => s.includes('Your username')), `scopes: ${first.seen.scopes}`);
	assert(first.url.searchParams.get('iss') === ISSUER, `iss in the response: ${first.url.searchParams.get('iss')}`);
});

await check('code exchange: the ID token (RS256) passes openid-client’s checks, with the expected claims', async () => {
	tokens = await grant(config, first);
	const claims = tokens.claims();
	assert(claims.iss === ISSUER && claims.aud === clients.node.client_id, `iss/aud: ${claims.iss} ${claims.aud}`);
	assert(claims.nonce === first.nonce, 'nonce');
	assert(claims.preferred_username === username, `preferred_username: ${claims.preferred_username}`);
	assert(typeof claims.auth_time === 'number' && claims.sid && Array.isArray(claims.amr), 'auth_time, sid, amr');
	assert(JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).alg === 'RS256', 'not RS256');
	assert(tokens.refresh_token, 'no refresh token with offline_access');
});

await check('the ID token’s signature verifies against the JWKS (enableNonRepudiationChecks)', async () => {
	const strict = await client.discovery(new URL(ISSUER), clients.node.client_id, undefined, client.ClientSecretBasic(clients.node.client_secret), insecure);
	client.enableNonRepudiationChecks(strict);
	const again = await authorize(strict);
	assert(!again.seen.consent, 'consent asked again');
	await grant(strict, again);
});

await check('userinfo with the access token: sub matches the ID token, preferred_username', async () => {
	const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
	assert(info.preferred_username === username, JSON.stringify(info));
});

await check('the access token is an RFC 9068 JWT for this client', async () => {
	const [header, payload] = tokens.access_token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
	assert(header.typ?.toLowerCase().endsWith('at+jwt'), `typ ${header.typ}`);
	assert(payload.client_id === clients.node.client_id && [payload.aud].flat().includes(clients.node.client_id), JSON.stringify(payload));
});

let rotated;
await check('refresh: a new refresh token (rotation), a new ID token that passes the checks', async () => {
	rotated = await client.refreshTokenGrant(config, tokens.refresh_token);
	assert(rotated.refresh_token && rotated.refresh_token !== tokens.refresh_token, 'not rotated');
	assert(rotated.access_token, 'no access token');
});

await check('reuse of the old refresh token is refused (invalid_grant) and revokes the grant: the new one dies too', async () => {
	const reuse = await rejects(() => client.refreshTokenGrant(config, tokens.refresh_token), 'reused refresh token');
	assert(errorCode(reuse) === 'invalid_grant', `reuse: ${errorCode(reuse)}`);
	const after = await rejects(() => client.refreshTokenGrant(config, rotated.refresh_token), 'refresh after reuse');
	assert(errorCode(after) === 'invalid_grant', `after reuse: ${errorCode(after)}`);
});

let second;
await check('remembered consent: a second authorization goes straight back (no consent page)', async () => {
	const flow = await authorize(config);
	assert(flow.seen.ended === 'application' && !flow.seen.consent && !flow.seen.login, JSON.stringify(flow.seen));
	second = await grant(config, flow);
});

await check('introspection: active for a live refresh token; revocation (RFC 7009); inactive afterwards', async () => {
	const live = await client.tokenIntrospection(config, second.refresh_token);
	assert(live.active === true && live.client_id === clients.node.client_id, JSON.stringify(live));
	await client.tokenRevocation(config, second.refresh_token);
	const dead = await client.tokenIntrospection(config, second.refresh_token);
	assert(dead.active === false, JSON.stringify(dead));
	const refused = await rejects(() => client.refreshTokenGrant(config, second.refresh_token), 'revoked refresh token');
	assert(errorCode(refused) === 'invalid_grant', errorCode(refused));
});

let third;
await check('prompt=none while signed in with consent: a code, no page', async () => {
	const flow = await authorize(config, { extra: { prompt: 'none' } });
	assert(flow.seen.ended === 'application' && !flow.seen.consent && !flow.seen.login, JSON.stringify(flow.seen));
	third = await grant(config, flow);
});

await check('prompt=none in a browser where nobody is signed in: error=login_required back at the app', async () => {
	const flow = await authorize(config, { extra: { prompt: 'none' }, who: join(SCRATCH, `chromium-${username}-fresh`) });
	assert(flow.url?.searchParams.get('error') === 'login_required', flow.seen.url);
	const error = await rejects(() => grant(config, flow), 'error response');
	assert(errorCode(error) === 'login_required', errorCode(error));
});

await check('Deny: error=access_denied back at the app', async () => {
	const flow = await authorize(config, { extra: { prompt: 'consent' }, consent: 'deny' });
	assert(flow.seen.consent, 'prompt=consent showed no consent page');
	assert(flow.url?.searchParams.get('error') === 'access_denied', flow.seen.url);
	const error = await rejects(() => grant(config, flow), 'access_denied');
	assert(errorCode(error) === 'access_denied', errorCode(error));
});

await check('negative: a code used twice is refused (invalid_grant)', async () => {
	const flow = await authorize(config);
	await grant(config, flow);
	const error = await rejects(() => grant(config, flow), 'second use of a code');
	assert(errorCode(error) === 'invalid_grant', errorCode(error));
});

await check('negative: a wrong PKCE verifier is refused (invalid_grant)', async () => {
	const flow = await authorize(config);
	const error = await rejects(() => grant(config, { ...flow, verifier: client.randomPKCECodeVerifier() }), 'wrong verifier');
	assert(errorCode(error) === 'invalid_grant', errorCode(error));
});

await check('negative: a redirect URI off by a trailing slash is shown to the person, never followed', async () => {
	const flow = await authorize(config, { redirect: `${redirectUri}/` });
	assert(flow.seen.ended === 'error', JSON.stringify(flow.seen));
	assert(/return address|address it has not registered/.test(flow.seen.text ?? ''), flow.seen.text);
});

await check('negative: a wrong nonce is rejected by openid-client', async () => {
	const flow = await authorize(config);
	await rejects(() => grant(config, { ...flow, nonce: client.randomNonce() }), 'wrong nonce');
});

await check('negative: a guessed client secret is refused (invalid_client)', async () => {
	const guessed = await client.discovery(new URL(ISSUER), clients.node.client_id, undefined, client.ClientSecretBasic('guessed-secret-guessed-secret'), insecure);
	const flow = await authorize(config);
	const error = await rejects(() => grant(guessed, flow), 'guessed secret');
	// A 401 with `WWW-Authenticate: Basic` (RFC 6749 §5.2) reaches openid-client's caller as a challenge error,
	// the response with it: its body is the RFC 6749 error.
	const body = error?.response ? await error.response.json().catch(() => ({})) : {};
	assert(errorCode(error) === 'invalid_client' || (error?.status === 401 && body.error === 'invalid_client'), `${errorCode(error)} ${JSON.stringify(body)}`);
});

await check(`a public client (PKCE, no secret) with ${ALT_ALG} ID tokens`, async () => {
	const flow = await authorize(publicConfig, { scope: 'openid' });
	assert(flow.seen.consent, 'a new app asks for consent');
	const result = await grant(publicConfig, flow);
	assert(JSON.parse(Buffer.from(result.id_token.split('.')[0], 'base64url')).alg === ALT_ALG, `not ${ALT_ALG}`);
	assert(!result.refresh_token, 'a refresh token without offline_access');
});

await check('RP-initiated logout: end_session_endpoint with id_token_hint, back at post_logout_redirect_uri with state', async () => {
	const state = client.randomState();
	const url = client.buildEndSessionUrl(config, {
		id_token_hint: third.id_token,
		post_logout_redirect_uri: postLogoutUri,
		state
	});
	const seen = await browse(profile, url.href, { username, password, stop: CALLBACK });
	assert(seen.ended === 'application' && !seen.confirm, JSON.stringify(seen));
	const back = new URL(seen.url);
	assert(back.pathname === '/signed-out' && back.searchParams.get('state') === state, seen.url);
});

await check('after the logout, prompt=none says login_required (the Latchkey session in the browser ended)', async () => {
	const flow = await authorize(config, { extra: { prompt: 'none' } });
	assert(flow.url?.searchParams.get('error') === 'login_required', flow.seen.url);
});

await check('logout without id_token_hint asks the person, then says "You are signed out"', async () => {
	const flow = await authorize(config); // signs in again (login page), consent remembered
	assert(flow.seen.login && !flow.seen.consent, JSON.stringify(flow.seen));
	const url = client.buildEndSessionUrl(config, {});
	const seen = await browse(profile, url.href, { username, password, stop: CALLBACK });
	assert(seen.confirm && seen.ended === 'signed_out', JSON.stringify(seen));
});

await closeBrowsers();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

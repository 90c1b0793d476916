/**
 * An in-memory stand-in for the Latchkey API, speaking the contract in openapi.json, for unit tests.
 * The "cookie jar" is the `session` field: `fresh` (valid access token), `expired` (access token expired,
 * refresh token still valid) or `none`.
 */
import type { ActivityEvent, SessionInfo } from '$lib/api/client';
import type { FetchLike } from '$lib/api/refresh';

export const BASE_URL = 'http://api.test';

interface StoredUser {
	id: string;
	username: string;
	password: string;
	created_at: string;
	/** The roles a sign-in's answer and `GET /profile` report (none unless a test gives some). */
	roles?: string[];
	/** Two-factor authentication is on: `VALID_CODE` is the app's code, and these recovery codes work once. */
	totp?: { recoveryCodes: string[] };
	passkeys: { id: string; name: string; created_at: string; last_used_at: string | null }[];
}

/** The code the fake authenticator app shows (the fake server accepts it any number of times). */
export const VALID_CODE = '123456';

export interface FakeApi {
	fetch: FetchLike;
	session: 'fresh' | 'expired' | 'none';
	users: StoredUser[];
	/** `METHOD /path` of every request, in order. */
	calls: string[];
	/** The JSON bodies of the requests, in order (null without one). */
	bodies: unknown[];
	/** A sign-in waits for its second factor (the challenge cookie). */
	challenge: string | null;
	/** A TOTP enrolment started and not yet confirmed. */
	pendingTotp: boolean;
	/** Set to make every request fail like a dropped connection. */
	offline: boolean;
	/**
	 * Makes one endpoint (`METHOD /path`) fail: with that status (a JSON error body, and `Retry-After` for a
	 * 429 or 503), or like a dropped connection (`'offline'`).
	 */
	failing: Record<string, number | 'offline'>;
	signedInAs: string | null;
	/** The signed-in user's sessions in other browsers (this one is `CURRENT_SESSION`). */
	otherSessions: SessionInfo[];
	events: ActivityEvent[];
}

export const CURRENT_SESSION: SessionInfo = {
	id: '10000000-0000-4000-8000-000000000000',
	created_at: '2026-11-29T11:00:00Z',
	last_used_at: '2026-11-29T11:58:00Z',
	expires_at: '2026-12-29T11:58:00Z',
	ip: '203.0.113.7',
	device: 'Firefox 128 on Linux',
	current: true
};

const failureCodes: Record<number, string> = {
	429: 'too_many_attempts',
	500: 'internal',
	503: 'service_unavailable'
};

function json(status: number, body: unknown): Response {
	return new Response(JSON.stringify(body), {
		status,
		headers: { 'Content-Type': 'application/json' }
	});
}

export function createFakeApi(): FakeApi {
	const api: FakeApi = {
		session: 'none',
		users: [],
		calls: [],
		bodies: [],
		challenge: null,
		pendingTotp: false,
		offline: false,
		failing: {},
		signedInAs: null,
		otherSessions: [],
		events: [],
		fetch: async (request) => {
			const path = new URL(request.url).pathname;
			api.calls.push(`${request.method} ${path}`);
			const failing = api.failing[`${request.method} ${path}`];
			if (api.offline || failing === 'offline') throw new TypeError('Failed to fetch');
			if (failing) {
				return new Response(
					JSON.stringify({ code: failureCodes[failing] ?? 'internal', message: `Failed with ${failing}.` }),
					{
						status: failing,
						headers: {
							'Content-Type': 'application/json',
							...(failing === 429 || failing === 503 ? { 'Retry-After': '30' } : {})
						}
					}
				);
			}
			const body = request.body ? await request.json() : null;
			api.bodies.push(body);
			const publicUser = (u: StoredUser) => ({ id: u.id, username: u.username, created_at: u.created_at });
			const current = () => api.users.find((u) => u.username === api.signedInAs);
			const sessionBody = (u: StoredUser) => ({
				user: publicUser(u),
				roles: u.roles ?? [],
				access_token_expires_at: '2030-01-01T00:00:00Z',
				refresh_token_expires_at: '2030-01-31T00:00:00Z'
			});

			const signedIn = () => (api.session === 'fresh' ? current() : undefined);
			const unauthenticated = () => json(401, { code: 'unauthenticated', message: 'Please sign in.' });
			const wrongPassword = () =>
				json(403, { code: 'invalid_credentials', message: 'The password is not right.' });
			/** The password, and a code or recovery code when two-factor authentication is on. */
			const stepUp = (user: StoredUser, b: Record<string, string>, password = b.password): Response | null => {
				if (password !== user.password) return wrongPassword();
				return user.totp ? secondFactor(user, b, 403) : null;
			};
			const secondFactor = (user: StoredUser, b: Record<string, string>, status: number): Response | null => {
				if (!b.code && !b.recovery_code) {
					return json(403, { code: 'second_factor_required', message: 'Enter a code from your authenticator app.' });
				}
				if (b.code === VALID_CODE) return null;
				const codes = user.totp?.recoveryCodes ?? [];
				if (b.recovery_code && codes.includes(b.recovery_code)) {
					codes.splice(codes.indexOf(b.recovery_code), 1);
					return null;
				}
				return json(status, { code: 'invalid_mfa_code', message: 'That code is not right.' });
			};
			const recoveryCodes = () => Array.from({ length: 10 }, (_, i) => `rc${i}-${Math.random().toString(36).slice(2, 8)}`);
			const ceremony = { ceremony: 'c-1', options: { publicKey: { challenge: 'AQID' } } };
			const suggestedName = 'Chrome 156 on Linux';

			const revoke = path.match(/^\/sessions\/([^/]+)$/);
			const passkey = path.match(/^\/passkeys\/([^/]+)$/);
			if (request.method === 'DELETE' && passkey) {
				const user = signedIn();
				if (!user) return unauthenticated();
				const refused = stepUp(user, body as Record<string, string>);
				if (refused) return refused;
				const before = user.passkeys.length;
				user.passkeys = user.passkeys.filter((k) => k.id !== passkey[1]);
				return user.passkeys.length < before
					? json(200, { status: 'ok' })
					: json(404, { code: 'not_found', message: 'No such passkey.' });
			}
			if (request.method === 'PATCH' && passkey) {
				const user = signedIn();
				if (!user) return unauthenticated();
				const { name } = body as { name: string };
				// As the server: no control or bidi/invisible formatting characters, 1–64 characters.
				if (/[\p{Cc}\p{Cf}]/u.test(name) || !name.trim() || [...name].length > 64) {
					return json(400, {
						code: 'validation_failed',
						message: 'Some fields are not valid.',
						fields: [{ field: 'name', message: 'A passkey name cannot contain control or invisible formatting characters.' }]
					});
				}
				const found = user.passkeys.find((k) => k.id === passkey[1]);
				if (!found) return json(404, { code: 'not_found', message: 'No such passkey.' });
				found.name = name;
				return json(200, found);
			}
			if (request.method === 'DELETE' && revoke) {
				if (!signedIn()) return unauthenticated();
				const before = api.otherSessions.length;
				api.otherSessions = api.otherSessions.filter((s) => s.id !== revoke[1]);
				return api.otherSessions.length < before
					? json(200, { status: 'ok' })
					: json(404, { code: 'not_found', message: 'No such session.' });
			}

			switch (`${request.method} ${path}`) {
				case 'GET /sessions':
					if (!signedIn()) return unauthenticated();
					return json(200, { sessions: [CURRENT_SESSION, ...api.otherSessions] });
				case 'GET /activity': {
					if (!signedIn()) return unauthenticated();
					const query = new URL(request.url).searchParams;
					const kinds = query.getAll('kind');
					const matching = api.events.filter((e) => kinds.length === 0 || kinds.includes(e.kind));
					const before = query.get('before');
					const start = before ? matching.findIndex((e) => e.id === before) + 1 : 0;
					if (before && start === 0) return json(404, { code: 'not_found', message: 'No such event.' });
					const limit = Number(query.get('limit') ?? 50);
					const events = matching.slice(start, start + limit);
					const more = start + events.length < matching.length;
					return json(200, { events, ...(more ? { next_before: events.at(-1)!.id } : {}) });
				}
				case 'POST /logout-all':
					if (!signedIn()) return unauthenticated();
					api.session = 'none';
					api.signedInAs = null;
					api.otherSessions = [];
					return json(200, { status: 'ok' });
				case 'GET /mfa': {
					const user = signedIn();
					if (!user) return unauthenticated();
					return json(200, {
						totp_enabled: !!user.totp,
						recovery_codes_remaining: user.totp?.recoveryCodes.length ?? 0,
						passkeys: user.passkeys.length
					});
				}
				case 'POST /mfa/totp': {
					const user = signedIn();
					if (!user) return unauthenticated();
					if ((body as { password: string }).password !== user.password) return wrongPassword();
					if (user.totp) {
						return json(409, { code: 'mfa_already_enabled', message: 'Two-factor authentication is already on.' });
					}
					api.pendingTotp = true;
					return json(200, {
						secret: 'JBSWY3DPEHPK3PXP',
						otpauth_uri: `otpauth://totp/Latchkey:${user.username}?secret=JBSWY3DPEHPK3PXP&issuer=Latchkey`
					});
				}
				case 'POST /mfa/totp/confirm': {
					const user = signedIn();
					if (!user) return unauthenticated();
					if ((body as { code: string }).code !== VALID_CODE || !api.pendingTotp) {
						return json(400, { code: 'invalid_mfa_code', message: 'That code is not right.' });
					}
					api.pendingTotp = false;
					user.totp = { recoveryCodes: recoveryCodes() };
					return json(200, { recovery_codes: [...user.totp.recoveryCodes] });
				}
				case 'DELETE /mfa/totp': {
					const user = signedIn();
					if (!user) return unauthenticated();
					const refused = stepUp(user, body as Record<string, string>);
					if (refused) return refused;
					user.totp = undefined;
					return json(200, { status: 'ok' });
				}
				case 'POST /mfa/recovery-codes': {
					const user = signedIn();
					if (!user) return unauthenticated();
					const refused = stepUp(user, body as Record<string, string>);
					if (refused) return refused;
					if (!user.totp) return json(409, { code: 'mfa_not_enabled', message: 'Two-factor authentication is off.' });
					user.totp.recoveryCodes = recoveryCodes();
					return json(200, { recovery_codes: [...user.totp.recoveryCodes] });
				}
				case 'GET /passkeys': {
					const user = signedIn();
					if (!user) return unauthenticated();
					return json(200, { passkeys: user.passkeys });
				}
				case 'POST /passkeys/register/start': {
					const user = signedIn();
					if (!user) return unauthenticated();
					const refused = stepUp(user, body as Record<string, string>);
					return refused ?? json(200, { ...ceremony, suggested_name: suggestedName });
				}
				case 'POST /passkeys/register/finish': {
					const user = signedIn();
					if (!user) return unauthenticated();
					const { ceremony: id, name, credential } = body as { ceremony: string; name?: string; credential: unknown };
					if (id !== ceremony.ceremony || !credential) {
						return json(400, { code: 'invalid_passkey', message: 'The passkey could not be verified.' });
					}
					const added = { id: `k${user.passkeys.length + 1}`, name: name ?? suggestedName, created_at: '2026-11-29T12:00:00Z', last_used_at: null };
					user.passkeys.push(added);
					return json(201, added);
				}
				case 'POST /login/mfa': {
					const user = api.users.find((u) => u.username === api.challenge);
					if (!user) return json(401, { code: 'mfa_challenge_expired', message: 'Sign in again.' });
					const refused = secondFactor(user, body as Record<string, string>, 401);
					if (refused) return refused;
					api.challenge = null;
					api.session = 'fresh';
					api.signedInAs = user.username;
					return json(200, sessionBody(user));
				}
				case 'POST /login/passkey/start':
					return json(200, ceremony);
				case 'POST /login/passkey/finish': {
					const { credential } = body as { credential: { userHandle?: string } };
					const user = api.users.find((u) => u.username === credential?.userHandle && u.passkeys.length > 0);
					if (!user) return json(401, { code: 'invalid_passkey', message: 'That passkey did not sign you in.' });
					api.session = 'fresh';
					api.signedInAs = user.username;
					return json(200, sessionBody(user));
				}
				case 'POST /password': {
					const user = signedIn();
					if (!user) return unauthenticated();
					const { current_password, new_password } = body as Record<string, string>;
					const refused = stepUp(user, body as Record<string, string>, current_password);
					if (refused) return refused;
					if ([...new_password].length < 12) {
						return json(400, {
							code: 'validation_failed',
							message: 'The request is invalid.',
							fields: [{ field: 'new_password', message: 'Password must be 12 to 128 characters long.' }]
						});
					}
					user.password = new_password;
					api.otherSessions = [];
					return json(200, { status: 'ok' });
				}
				case 'DELETE /profile': {
					const user = signedIn();
					if (!user) return unauthenticated();
					const refused = stepUp(user, body as Record<string, string>);
					if (refused) return refused;
					api.users = api.users.filter((u) => u !== user);
					api.session = 'none';
					api.signedInAs = null;
					return json(200, { status: 'ok' });
				}
				case 'POST /register': {
					const { username, password } = body as { username: string; password: string };
					if ([...password].length < 12) {
						return json(400, {
							code: 'validation_failed',
							message: 'The request is invalid.',
							fields: [{ field: 'password', message: 'Password must be at least 12 characters.' }]
						});
					}
					if (api.users.some((u) => u.username.toLowerCase() === username.toLowerCase())) {
						return json(409, { code: 'username_taken', message: 'That username is already taken.' });
					}
					const user = {
						id: `00000000-0000-4000-8000-00000000000${api.users.length}`,
						username,
						password,
						created_at: '2026-11-29T12:00:00Z',
						passkeys: []
					};
					api.users.push(user);
					return json(201, publicUser(user));
				}
				case 'POST /login': {
					const { username, password } = body as { username: string; password: string };
					const user = api.users.find((u) => u.username === username && u.password === password);
					if (!user) {
						return json(401, { code: 'invalid_credentials', message: 'Invalid username or password.' });
					}
					if (user.totp) {
						api.challenge = user.username;
						return json(200, { mfa_required: true, methods: ['totp', 'recovery_code'] });
					}
					api.session = 'fresh';
					api.signedInAs = user.username;
					return json(200, sessionBody(user));
				}
				case 'POST /refresh': {
					const user = current();
					if (api.session === 'none' || !user) {
						return json(401, { code: 'invalid_refresh_token', message: 'Please sign in again.' });
					}
					api.session = 'fresh';
					return json(200, sessionBody(user));
				}
				case 'POST /logout':
					api.session = 'none';
					api.signedInAs = null;
					return json(200, { status: 'ok' });
				case 'GET /profile': {
					const user = current();
					if (api.session !== 'fresh' || !user) {
						return json(401, { code: 'unauthenticated', message: 'Please sign in.' });
					}
					return json(200, { ...publicUser(user), roles: user.roles ?? [] });
				}
				default:
					return json(404, { code: 'not_found', message: 'Not found.' });
			}
		}
	};
	return api;
}

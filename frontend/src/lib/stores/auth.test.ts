import { get } from 'svelte/store';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createApi, type Api } from '$lib/api/client';
import { createSessionHint, SESSION_HINT_KEY, type HintStorage } from '$lib/api/session-hint';
import { BASE_URL, createFakeApi, VALID_CODE, type FakeApi } from '$lib/test/fake-api';
import { stalled } from '$lib/test/stalled';
import { createAuthStore, networkErrorMessage, noticeMessage, timeoutMessage, type AuthStore } from './auth';

const alice = { username: 'alice', password: 'correct horse battery' };

let server: FakeApi;
let auth: AuthStore;
let api: Api;

beforeEach(() => {
	server = createFakeApi();
	let store: AuthStore | undefined;
	api = createApi({
		baseUrl: BASE_URL,
		fetch: server.fetch,
		onSessionExpired: () => store?.expire(),
		locks: null,
		clock: null
	});
	store = auth = createAuthStore(api);
});

async function seedAlice() {
	await auth.register(alice);
	server.calls.length = 0;
}

/** Signs alice in through another store: the (fake) browser holds her cookies, this store knows nothing yet. */
async function signInElsewhere() {
	const other = createAuthStore(createApi({ baseUrl: BASE_URL, fetch: server.fetch, locks: null, clock: null }));
	await other.register(alice);
	server.calls.length = 0;
}

describe('auth store', () => {
	it('starts out loading, so nothing renders a signed-in or signed-out state too early', () => {
		expect(get(auth)).toEqual({ user: null, loading: true, error: null, notice: null });
	});

	it('init restores a live session from /profile', async () => {
		await seedAlice();

		await auth.init();

		expect(get(auth)).toMatchObject({ user: { username: 'alice' }, loading: false, error: null });
		expect(server.calls).toEqual(['GET /profile']);
	});

	it('init refreshes an expired access token transparently', async () => {
		await seedAlice();
		server.session = 'expired';

		await auth.init();

		expect(get(auth).user?.username).toBe('alice');
		expect(server.calls).toEqual(['GET /profile', 'POST /refresh', 'GET /profile']);
	});

	it('init without a session ends signed out, without an error and without a retry loop', async () => {
		await auth.init();

		expect(get(auth)).toEqual({ user: null, loading: false, error: null, notice: null });
		expect(server.calls).toEqual(['GET /profile', 'POST /refresh']);
	});

	it('init reports an unreachable server and leaves the question open instead of showing “signed out”', async () => {
		server.offline = true;

		await auth.init();

		expect(get(auth)).toEqual({ user: null, loading: true, error: networkErrorMessage(), notice: null });

		// Trying again once the server is back restores the session.
		server.offline = false;
		await signInElsewhere();
		await auth.init();
		expect(get(auth)).toMatchObject({ user: { username: 'alice' }, loading: false, error: null });
	});

	it('register creates the account and then signs in with the same credentials', async () => {
		const result = await auth.register(alice);

		expect(result.ok).toBe(true);
		expect(server.calls).toEqual(['POST /register', 'POST /login']);
		expect(get(auth)).toMatchObject({ user: { username: 'alice' }, loading: false, error: null });
	});

	it('register returns the server message for a taken username and does not sign in', async () => {
		await seedAlice();
		await auth.logout();
		server.calls.length = 0;

		const result = await auth.register({ ...alice, username: 'ALICE' });

		expect(result).toEqual({
			ok: false,
			failure: expect.objectContaining({ message: 'That username is already taken.', fields: [] })
		});
		expect(server.calls).toEqual(['POST /register']);
		expect(get(auth)).toMatchObject({ user: null, error: 'That username is already taken.' });
	});

	it.each([503, 429, 'offline'] as const)(
		'register whose sign-in failed (%s) says the account exists, and trying again only signs in',
		async (failure) => {
			server.failing['POST /login'] = failure;

			const first = await auth.register(alice);

			expect(first).toMatchObject({ ok: false, accountCreated: true });
			expect(get(auth).user).toBeNull();

			delete server.failing['POST /login'];
			server.calls.length = 0;
			const second = await auth.register(alice);

			// Not "That username is already taken" for the account just made.
			expect(second.ok).toBe(true);
			expect(server.calls).toEqual(['POST /login']);
			expect(get(auth)).toMatchObject({ user: { username: 'alice' }, error: null });
		}
	);

	it('register tries to create the account again for other credentials than the ones just created', async () => {
		server.failing['POST /login'] = 503;
		await auth.register(alice);
		delete server.failing['POST /login'];
		server.calls.length = 0;

		const other = await auth.register({ username: 'bob', password: alice.password });

		expect(other.ok).toBe(true);
		expect(server.calls).toEqual(['POST /register', 'POST /login']);
	});

	it('register passes the server’s per-field messages through', async () => {
		const result = await auth.register({ username: 'bob', password: 'short' });

		expect(result.ok).toBe(false);
		if (!result.ok) {
			expect(result.failure.fields).toEqual([
				{ field: 'password', message: 'Password must be at least 12 characters.' }
			]);
		}
	});

	it('login with a wrong password returns the server message and stays signed out', async () => {
		await seedAlice();
		await auth.logout();

		const result = await auth.login({ ...alice, password: 'wrong password!!' });

		expect(result.ok).toBe(false);
		expect(get(auth)).toMatchObject({ user: null, error: 'Invalid username or password.' });
		// A 401 from /login means wrong credentials: it must never trigger a refresh.
		expect(server.calls).not.toContain('POST /refresh');
	});

	it('login succeeds and clears an earlier error', async () => {
		await seedAlice();
		await auth.logout();
		await auth.login({ ...alice, password: 'wrong password!!' });

		const result = await auth.login(alice);

		expect(result.ok).toBe(true);
		expect(get(auth)).toMatchObject({ user: { username: 'alice' }, error: null });
	});

	it('login reports an unreachable server instead of throwing', async () => {
		server.offline = true;

		const result = await auth.login(alice);

		expect(result).toEqual({ ok: false, failure: { message: networkErrorMessage(), fields: [] } });
	});

	it('passes Retry-After on with a 429, for the form’s countdown', async () => {
		server.failing['POST /login'] = 429;

		const result = await auth.login(alice);

		expect(result).toEqual({
			ok: false,
			failure: { code: 'too_many_attempts', status: 429, message: 'Failed with 429.', fields: [], retryAfter: 30 }
		});
	});

	it('logout ends the server session and runs the callback before signing out', async () => {
		await seedAlice();
		let userDuringCallback: string | undefined;

		await auth.logout(async () => {
			userDuringCallback = get(auth).user?.username;
		});

		expect(server.calls).toEqual(['POST /logout']);
		expect(userDuringCallback).toBe('alice');
		expect(get(auth).notice).toBeNull();
		expect(get(auth).user).toBeNull();
		expect(server.session).toBe('none');
	});

	it('becomes signed out, saying why, when the API refuses the refresh (401) during any later call', async () => {
		await seedAlice();
		await auth.init();
		// The server forgot the session (e.g. the refresh token expired or was revoked).
		server.session = 'none';

		const { response } = await api.GET('/profile');

		expect(response.status).toBe(401);
		expect(get(auth)).toMatchObject({
			user: null,
			loading: false,
			notice: { kind: 'session_expired', message: noticeMessage('session_expired') }
		});
	});

	it('asks the API again when the page comes back from the back-forward cache, and only then', async () => {
		await seedAlice();
		await auth.init();
		const page = new EventTarget();
		const stop = auth.followPageRestores(page);
		const pageshow = (persisted: boolean) => Object.assign(new Event('pageshow'), { persisted });
		server.calls.length = 0;

		page.dispatchEvent(pageshow(false));
		expect(server.calls).toEqual([]);

		// Signed out elsewhere while the page was frozen in the cache.
		server.session = 'none';
		page.dispatchEvent(pageshow(true));
		await vi.waitFor(() => expect(get(auth).user).toBeNull());
		expect(get(auth).notice?.kind).toBe('session_expired');
		expect(server.calls).toEqual(['GET /profile', 'POST /refresh']);
		stop();
	});

	it('reload fetches the user again without going back to the loading state', async () => {
		await seedAlice();
		await auth.init();
		server.session = 'expired';
		const states: boolean[] = [];
		const stop = auth.subscribe((s) => states.push(s.loading));

		await auth.reload();
		stop();

		expect(states.every((loading) => !loading)).toBe(true);
		expect(get(auth).user?.username).toBe('alice');
		expect(server.calls.slice(-3)).toEqual(['GET /profile', 'POST /refresh', 'GET /profile']);
	});

	describe('with a session hint', () => {
		function withHint() {
			const values = new Map<string, string>();
			const storage: HintStorage = {
				getItem: (k) => values.get(k) ?? null,
				setItem: (k, v) => void values.set(k, v),
				removeItem: (k) => void values.delete(k)
			};
			const hint = createSessionHint(storage);
			const hinted = createAuthStore(
				createApi({ baseUrl: BASE_URL, fetch: server.fetch, hint, locks: null, clock: null }),
				hint
			);
			return { hint, hinted, values };
		}

		it('restores a live session without a hint (site data cleared, storage blocked): /profile decides', async () => {
			const { hinted } = withHint();
			await seedAlice();

			await hinted.init();

			expect(get(hinted).user?.username).toBe('alice');
			expect(server.calls).toEqual(['GET /profile']);
		});

		it('a visitor without a session ends signed out after asking the API', async () => {
			const { hinted } = withHint();

			await hinted.init();

			expect(get(hinted)).toEqual({ user: null, loading: false, error: null, notice: null });
			expect(server.calls).toEqual(['GET /profile', 'POST /refresh']);
		});

		it('signing in records the session; logging out forgets it once the server confirmed', async () => {
			const { hint, hinted, values } = withHint();
			await hinted.register(alice);
			expect(values.has(SESSION_HINT_KEY)).toBe(true);

			await hinted.init();
			expect(get(hinted).user?.username).toBe('alice');
			expect(hint.accessExpired(Date.now())).toBe(false);

			await hinted.logout();
			expect(values.has(SESSION_HINT_KEY)).toBe(false);
		});

		it('follows a sign-out and a sign-in made in another tab', async () => {
			const { hinted } = withHint();
			const tabs = new EventTarget();
			const stop = hinted.followOtherTabs(tabs);
			const storageEvent = (newValue: string | null) =>
				Object.assign(new Event('storage'), { key: 'latchkey:session', newValue });
			await hinted.register(alice);

			// Another tab logged out: the session hint was removed there.
			server.session = 'none';
			server.signedInAs = null;
			tabs.dispatchEvent(storageEvent(null));
			expect(get(hinted).user).toBeNull();

			// Another tab logged in again (the browser shares its cookies with this tab).
			server.session = 'fresh';
			server.signedInAs = 'alice';
			tabs.dispatchEvent(storageEvent('{"access":1,"refresh":2,"reliable":true}'));
			await vi.waitFor(() => expect(get(hinted).user?.username).toBe('alice'));
			stop();
		});
	});
});

describe('only a 401 signs anyone out', () => {
	/** One browser: tabs share localStorage (and get `storage` events for each other's writes) and cookies. */
	function browser(send = server.fetch) {
		const values = new Map<string, string>();
		const tabs: EventTarget[] = [];
		const announce = (from: EventTarget, key: string, newValue: string | null) => {
			for (const tab of tabs) {
				if (tab !== from) tab.dispatchEvent(Object.assign(new Event('storage'), { key, newValue }));
			}
		};
		function tab(options: { timeoutMs?: number } = {}) {
			const target = new EventTarget();
			tabs.push(target);
			const storage: HintStorage = {
				getItem: (k) => values.get(k) ?? null,
				setItem: (k, v) => {
					values.set(k, v);
					announce(target, k, v);
				},
				removeItem: (k) => {
					values.delete(k);
					announce(target, k, null);
				}
			};
			const hint = createSessionHint(storage);
			let store: AuthStore | undefined;
			const tabApi = createApi({
				baseUrl: BASE_URL,
				fetch: send,
				hint,
				locks: null,
				clock: null,
				onSessionExpired: () => store?.expire(),
				...options
			});
			store = createAuthStore(tabApi, hint);
			store.followOtherTabs(target);
			return { store, api: tabApi };
		}
		return { values, tab };
	}

	async function twoSignedInTabs(send?: typeof server.fetch, options?: { timeoutMs?: number }) {
		const b = browser(send);
		const first = b.tab(options);
		const second = b.tab(options);
		await first.store.register(alice);
		await second.store.init();
		expect(get(second.store).user?.username).toBe('alice');
		return { ...b, first, second };
	}

	it.each([503, 500, 429, 'offline'] as const)(
		'a /refresh that fails with %s keeps every tab signed in and says to try again',
		async (failure) => {
			const { values, first, second } = await twoSignedInTabs();
			server.session = 'expired';
			server.failing['POST /refresh'] = failure;

			await first.store.reload();

			expect(get(first.store)).toMatchObject({
				user: { username: 'alice' },
				error: failure === 'offline' ? networkErrorMessage() : `Failed with ${failure}.`,
				notice: null
			});
			expect(get(second.store).user?.username).toBe('alice');
			expect(values.has(SESSION_HINT_KEY)).toBe(true);

			// Once the server is back, the same session carries on.
			delete server.failing['POST /refresh'];
			await first.store.reload();
			expect(get(first.store)).toMatchObject({ user: { username: 'alice' }, error: null });
		}
	);

	it('a /refresh that hangs times out, keeps every tab signed in and frees the other tabs', async () => {
		let hang = false;
		const send: typeof server.fetch = (request) =>
			hang && new URL(request.url).pathname === '/refresh' ? stalled(request) : server.fetch(request);
		const { first, second } = await twoSignedInTabs(send, { timeoutMs: 30 });
		server.session = 'expired';
		hang = true;

		await first.store.reload();

		expect(get(first.store)).toMatchObject({ user: { username: 'alice' }, error: timeoutMessage() });
		expect(get(second.store).user?.username).toBe('alice');
	});

	it('a 503 from /refresh during the first check leaves the question open, not “signed out”', async () => {
		await signInElsewhere();
		server.session = 'expired';
		server.failing['POST /refresh'] = 503;

		await auth.init();

		expect(get(auth)).toEqual({ user: null, loading: true, error: 'Failed with 503.', notice: null });
	});

	it('a 401 from /refresh signs every tab out, and the tab that saw it says the session expired', async () => {
		const { values, first, second } = await twoSignedInTabs();
		// The refresh token was revoked (or expired) on the server.
		server.session = 'none';

		await first.store.reload();

		expect(get(first.store)).toMatchObject({ user: null, notice: { kind: 'session_expired' } });
		expect(get(second.store)).toMatchObject({ user: null, notice: null });
		expect(values.has(SESSION_HINT_KEY)).toBe(false);
	});

	it.each([503, 500, 'offline'] as const)(
		'a logout that fails with %s keeps the user signed in everywhere and shows the error',
		async (failure) => {
			const { values, first, second } = await twoSignedInTabs();
			server.failing['POST /logout'] = failure;
			const beforeSignedOut = vi.fn(async () => {});

			const outcome = await first.store.logout(beforeSignedOut);

			expect(outcome.ok).toBe(false);
			const message = failure === 'offline' ? networkErrorMessage() : `Failed with ${failure}.`;
			expect(get(first.store)).toMatchObject({
				user: { username: 'alice' },
				error: `Could not log you out: ${message}`
			});
			expect(beforeSignedOut).not.toHaveBeenCalled();
			expect(get(second.store).user?.username).toBe('alice');
			expect(values.has(SESSION_HINT_KEY)).toBe(true);
			expect(server.session).toBe('fresh');

			// Trying again once the server answers signs out every tab.
			delete server.failing['POST /logout'];
			expect(await first.store.logout(beforeSignedOut)).toEqual({ ok: true });
			expect(beforeSignedOut).toHaveBeenCalledOnce();
			expect(get(first.store)).toMatchObject({ user: null, error: null, notice: null });
			expect(get(second.store).user).toBeNull();
		}
	);

	it('signedOut records why, for the sign-in page, and signs the other tabs out', async () => {
		const { first, second } = await twoSignedInTabs();

		first.store.signedOut({ kind: 'account_deleted', message: noticeMessage('account_deleted') });

		expect(get(first.store)).toMatchObject({ user: null, notice: { kind: 'account_deleted' } });
		expect(get(second.store).user).toBeNull();
		first.store.clearNotice();
		expect(get(first.store).notice).toBeNull();
	});
});

describe('ending every session and deleting the account', () => {
	it('logoutEverywhere signs out with a notice once the server confirms', async () => {
		await seedAlice();

		expect(await auth.logoutEverywhere()).toEqual({ ok: true });

		expect(server.calls).toEqual(['POST /logout-all']);
		expect(get(auth)).toMatchObject({ user: null, notice: { kind: 'signed_out_everywhere' } });
		expect(server.session).toBe('none');
	});

	it.each([503, 'offline'] as const)('logoutEverywhere failing with %s keeps the user signed in', async (failure) => {
		await seedAlice();
		server.failing['POST /logout-all'] = failure;

		const outcome = await auth.logoutEverywhere();

		expect(outcome.ok).toBe(false);
		expect(get(auth)).toMatchObject({ user: { username: 'alice' }, notice: null });
	});

	it('deleteAccount with a wrong password is a 403 (no refresh) and changes nothing', async () => {
		await seedAlice();

		const outcome = await auth.deleteAccount({ password: 'not the password' });

		expect(outcome).toEqual({
			ok: false,
			failure: expect.objectContaining({ code: 'invalid_credentials', status: 403 })
		});
		expect(server.calls).toEqual(['DELETE /profile']);
		expect(get(auth).user?.username).toBe('alice');
		expect(server.users).toHaveLength(1);
	});

	it('deleteAccount with the password deletes it and signs out with a notice', async () => {
		await seedAlice();

		expect(await auth.deleteAccount({ password: alice.password })).toEqual({ ok: true });

		expect(server.users).toEqual([]);
		expect(get(auth)).toMatchObject({ user: null, notice: { kind: 'account_deleted', message: noticeMessage('account_deleted') } });
	});
});

describe('signing in with a second factor', () => {
	/** Alice, signed out, with two-factor authentication on; returns her recovery codes. */
	async function aliceWithTwoFactor(): Promise<string[]> {
		await seedAlice();
		server.users[0].totp = { recoveryCodes: ['rc-one', 'rc-two'] };
		await auth.logout();
		server.calls.length = 0;
		return server.users[0].totp.recoveryCodes;
	}

	it('the right password asks for the second factor and starts no session', async () => {
		await aliceWithTwoFactor();

		const result = await auth.login(alice);

		expect(result).toEqual({ ok: false, secondFactor: { methods: ['totp', 'recovery_code'] } });
		expect(get(auth)).toMatchObject({ user: null, error: null });
		expect(server.session).toBe('none');
	});

	it('a code finishes the sign-in; a wrong one is a 401 that neither refreshes nor signs anyone out', async () => {
		await aliceWithTwoFactor();
		await auth.login(alice);

		const wrong = await auth.verifySecondFactor({ code: '000000' });
		expect(wrong).toEqual({ ok: false, failure: expect.objectContaining({ status: 401, code: 'invalid_mfa_code' }) });
		expect(get(auth).notice).toBeNull();

		expect(await auth.verifySecondFactor({ code: VALID_CODE })).toMatchObject({ ok: true, user: { username: 'alice' } });
		expect(get(auth).user?.username).toBe('alice');
		expect(server.calls).toEqual(['POST /login', 'POST /login/mfa', 'POST /login/mfa']);
	});

	it('a recovery code works once', async () => {
		await aliceWithTwoFactor();
		await auth.login(alice);
		expect((await auth.verifySecondFactor({ recovery_code: 'rc-one' })).ok).toBe(true);
		await auth.logout();

		await auth.login(alice);
		const again = await auth.verifySecondFactor({ recovery_code: 'rc-one' });
		expect(again.ok || again.failure.code).toBe('invalid_mfa_code');
	});

	it('says when the challenge is gone, so the form can start again from the password', async () => {
		await aliceWithTwoFactor();
		const result = await auth.verifySecondFactor({ code: VALID_CODE });
		expect(result.ok || result.failure.code).toBe('mfa_challenge_expired');
	});

	it('a passkey signs in without a code, and a refused or failed ceremony says why', async () => {
		await aliceWithTwoFactor();
		server.users[0].passkeys.push({ id: 'k1', name: 'Laptop', created_at: '2026-11-29T12:00:00Z', last_used_at: null });

		const cancelled = await auth.loginWithPasskey(async () => ({
			ok: false,
			failure: { message: 'No passkey was used.', fields: [] }
		}));
		expect(cancelled).toEqual({ ok: false, failure: { message: 'No passkey was used.', fields: [] } });
		expect(get(auth).error).toBe('No passkey was used.');

		// A quiet request the form aborted leaves nothing to say.
		auth.clearError();
		const aborted = await auth.loginWithPasskey(async () => ({
			ok: false,
			failure: { message: 'The passkey request was cancelled.', fields: [] },
			cancelled: true
		}));
		expect(aborted).toMatchObject({ ok: false, cancelled: true });
		expect(get(auth).error).toBeNull();

		const stranger = await auth.loginWithPasskey(async () => ({ ok: true, credential: { userHandle: 'bob' } }));
		expect(stranger.ok || stranger.failure).toMatchObject({ status: 401, code: 'invalid_passkey' });

		const use = vi.fn(async () => ({ ok: true as const, credential: { userHandle: 'alice' } }));
		expect(await auth.loginWithPasskey(use)).toMatchObject({ ok: true, user: { username: 'alice' } });
		expect(use).toHaveBeenCalledWith({ publicKey: { challenge: 'AQID' } });
		expect(server.bodies.at(-1)).toEqual({ ceremony: 'c-1', credential: { userHandle: 'alice' } });
		expect(get(auth).user?.username).toBe('alice');
		expect(server.calls).not.toContain('POST /refresh');
	});
	it('takes the roles from every sign-in answer (password, code, passkey), with no GET /profile', async () => {
		await seedAlice();
		server.users[0].roles = ['admin'];
		await auth.logout();
		server.calls.length = 0;

		await auth.login(alice);
		expect(get(auth).user).toMatchObject({ username: 'alice', roles: ['admin'] });

		await auth.logout();
		server.users[0].totp = { recoveryCodes: [] };
		await auth.login(alice);
		expect(get(auth).user).toBeNull();
		await auth.verifySecondFactor({ code: VALID_CODE });
		expect(get(auth).user).toMatchObject({ username: 'alice', roles: ['admin'] });

		await auth.logout();
		server.users[0].passkeys.push({ id: 'k1', name: 'Laptop', created_at: '2026-11-29T12:00:00Z', last_used_at: null });
		await auth.loginWithPasskey(async () => ({ ok: true, credential: { userHandle: 'alice' } }));
		expect(get(auth).user).toMatchObject({ username: 'alice', roles: ['admin'] });

		expect(server.calls).not.toContain('GET /profile');
	});
});

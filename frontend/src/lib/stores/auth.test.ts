import { get } from 'svelte/store';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createApi, type Api } from '$lib/api/client';
import { createSessionHint, type HintStorage } from '$lib/api/session-hint';
import { BASE_URL, createFakeApi, type FakeApi } from '$lib/test/fake-api';
import { createAuthStore, NETWORK_ERROR_MESSAGE, type AuthStore } from './auth';

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

describe('auth store', () => {
	it('starts out loading, so nothing renders a signed-in or signed-out state too early', () => {
		expect(get(auth)).toEqual({ user: null, loading: true, error: null });
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

		expect(get(auth)).toEqual({ user: null, loading: false, error: null });
		expect(server.calls).toEqual(['GET /profile', 'POST /refresh']);
	});

	it('init reports an unreachable server', async () => {
		server.offline = true;

		await auth.init();

		expect(get(auth)).toEqual({ user: null, loading: false, error: NETWORK_ERROR_MESSAGE });
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

		expect(result).toEqual({ ok: false, failure: { message: NETWORK_ERROR_MESSAGE, fields: [] } });
	});

	it('logout ends the server session and runs the callback before signing out', async () => {
		await seedAlice();
		let userDuringCallback: string | undefined;

		await auth.logout(async () => {
			userDuringCallback = get(auth).user?.username;
		});

		expect(server.calls).toEqual(['POST /logout']);
		expect(userDuringCallback).toBe('alice');
		expect(get(auth).user).toBeNull();
		expect(server.session).toBe('none');
	});

	it('becomes signed out when a refresh fails during any later call', async () => {
		await seedAlice();
		await auth.init();
		// The server forgot the session (e.g. the refresh token expired or was revoked).
		server.session = 'none';

		const { response } = await api.GET('/profile');

		expect(response.status).toBe(401);
		expect(get(auth)).toMatchObject({ user: null, loading: false });
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
			return { hint, hinted };
		}

		it('a first visit asks the API nothing and is signed out at once', async () => {
			const { hinted } = withHint();

			await hinted.init();

			expect(get(hinted)).toEqual({ user: null, loading: false, error: null });
			expect(server.calls).toEqual([]);
		});

		it('signing in records the session, so the next app load restores it; logging out forgets it', async () => {
			const { hint, hinted } = withHint();
			await hinted.register(alice);
			expect(hint.maybeSignedIn(Date.now())).toBe(true);

			await hinted.init();
			expect(get(hinted).user?.username).toBe('alice');

			await hinted.logout();
			expect(hint.maybeSignedIn(Date.now())).toBe(false);
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

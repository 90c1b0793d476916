import { describe, expect, it, vi } from 'vitest';
import { createSessionHint, type HintStorage } from './session-hint';
import { stalled } from '$lib/test/stalled';
import {
	createRefreshingFetch,
	REFRESH_LOCK_NAME,
	withTimeout,
	type FetchLike,
	type LockManagerLike,
	type RefreshClock,
	type RefreshOutcome
} from './refresh';

const BASE = 'http://api.test';

const renewed: RefreshOutcome = { status: 'renewed' };
const ended: RefreshOutcome = { status: 'ended' };

function json(status: number, body: unknown = {}): Response {
	return new Response(JSON.stringify(body), {
		status,
		headers: { 'Content-Type': 'application/json' }
	});
}

/** A fake API: /profile answers 401 until the session is refreshed, then 200. */
function fakeApi(options: { refreshOk?: boolean; refreshDelayMs?: number } = {}) {
	const { refreshOk = true, refreshDelayMs = 5 } = options;
	let fresh = false;
	const calls: string[] = [];
	const bodies: string[] = [];
	const fetch: FetchLike = async (request) => {
		const path = new URL(request.url).pathname;
		calls.push(`${request.method} ${path}`);
		if (request.body) bodies.push(await request.text());
		if (path === '/login') return json(401, { code: 'invalid_credentials' });
		return fresh ? json(200, { ok: true }) : json(401, { code: 'unauthenticated' });
	};
	const refresh = vi.fn(async (): Promise<RefreshOutcome> => {
		calls.push('refresh');
		await new Promise((resolve) => setTimeout(resolve, refreshDelayMs));
		fresh = refreshOk;
		return refreshOk ? renewed : ended;
	});
	return { fetch, refresh, calls, bodies };
}

const get = (path: string) => new Request(BASE + path);

describe('createRefreshingFetch', () => {
	it('refreshes once and retries the original request after a 401', async () => {
		const api = fakeApi();
		const wrapped = createRefreshingFetch({ baseUrl: BASE, ...api, locks: null, clock: null });

		const response = await wrapped(get('/profile'));

		expect(response.status).toBe(200);
		expect(api.calls).toEqual(['GET /profile', 'refresh', 'GET /profile']);
	});

	it('shares one refresh between many concurrent 401s in a tab', async () => {
		const api = fakeApi({ refreshDelayMs: 20 });
		const wrapped = createRefreshingFetch({ baseUrl: BASE, ...api, locks: null, clock: null });

		const responses = await Promise.all(Array.from({ length: 5 }, () => wrapped(get('/profile'))));

		expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
		expect(api.refresh).toHaveBeenCalledTimes(1);
		expect(api.calls.filter((c) => c === 'GET /profile')).toHaveLength(10);
	});

	it('does not refresh again for a late 401 to a request sent before the last refresh', async () => {
		let release!: () => void;
		const gate = new Promise<void>((resolve) => (release = resolve));
		let fresh = false;
		let t = 0;
		const fetch: FetchLike = async (request) => {
			const sentWithFreshCookie = fresh;
			if (new URL(request.url).pathname === '/slow') await gate;
			return sentWithFreshCookie ? json(200) : json(401);
		};
		const refresh = vi.fn(async () => {
			fresh = true;
			return renewed;
		});
		const wrapped = createRefreshingFetch({
			baseUrl: BASE,
			fetch,
			refresh,
			locks: null,
			clock: null,
			now: () => ++t
		});

		const slow = wrapped(get('/slow'));
		expect((await wrapped(get('/profile'))).status).toBe(200);
		release();

		expect((await slow).status).toBe(200);
		expect(refresh).toHaveBeenCalledTimes(1);
	});

	it('retries at most once: a second 401 is returned, not refreshed again', async () => {
		const fetch = vi.fn<FetchLike>(async () => json(401, { code: 'unauthenticated' }));
		const refresh = vi.fn(async () => renewed);
		const onSessionExpired = vi.fn();
		const wrapped = createRefreshingFetch({
			baseUrl: BASE,
			fetch,
			refresh,
			onSessionExpired,
			locks: null,
			clock: null
		});

		const response = await wrapped(get('/profile'));

		expect(response.status).toBe(401);
		expect(refresh).toHaveBeenCalledTimes(1);
		expect(fetch).toHaveBeenCalledTimes(2);
		expect(onSessionExpired).toHaveBeenCalledTimes(1);
	});

	it.each(['/login', '/login/mfa', '/login/passkey/start', '/login/passkey/finish', '/register', '/refresh', '/logout'])(
		'never refreshes for a 401 from %s (a wrong code or passkey is not an expired session)',
		async (path) => {
			const fetch = vi.fn<FetchLike>(async () => json(401, { code: 'invalid_credentials' }));
			const refresh = vi.fn(async () => renewed);
			const wrapped = createRefreshingFetch({ baseUrl: BASE, fetch, refresh, locks: null, clock: null });

			const response = await wrapped(new Request(BASE + path, { method: 'POST', body: '{}' }));

			expect(response.status).toBe(401);
			expect(refresh).not.toHaveBeenCalled();
			expect(fetch).toHaveBeenCalledTimes(1);
		}
	);

	it('matches excluded paths below a base URL prefix', async () => {
		const fetch = vi.fn<FetchLike>(async () => json(401));
		const refresh = vi.fn(async () => renewed);
		const wrapped = createRefreshingFetch({
			baseUrl: 'http://api.test/v1/',
			fetch,
			refresh,
			locks: null,
			clock: null
		});

		await wrapped(new Request('http://api.test/v1/login', { method: 'POST' }));

		expect(refresh).not.toHaveBeenCalled();
	});

	it('reports an expired session and returns the 401 when the refresh fails', async () => {
		const api = fakeApi({ refreshOk: false });
		const onSessionExpired = vi.fn();
		const wrapped = createRefreshingFetch({
			baseUrl: BASE,
			...api,
			onSessionExpired,
			locks: null,
			clock: null
		});

		const responses = await Promise.all([wrapped(get('/profile')), wrapped(get('/profile'))]);

		expect(responses.map((r) => r.status)).toEqual([401, 401]);
		expect(api.refresh).toHaveBeenCalledTimes(1);
		expect(api.calls).toEqual(['GET /profile', 'GET /profile', 'refresh']);
		expect(onSessionExpired).toHaveBeenCalledTimes(2);
	});

	it('a refresh that cannot reach the server rethrows its error to every waiter and signs nobody out', async () => {
		const fetch = vi.fn<FetchLike>(async () => json(401));
		const offline = new TypeError('Failed to fetch');
		const refresh = vi.fn(async (): Promise<RefreshOutcome> => {
			throw offline;
		});
		const onSessionExpired = vi.fn();
		const wrapped = createRefreshingFetch({
			baseUrl: BASE,
			fetch,
			refresh,
			onSessionExpired,
			locks: null,
			clock: null
		});

		const results = await Promise.allSettled([wrapped(get('/profile')), wrapped(get('/profile'))]);

		expect(results).toEqual([
			{ status: 'rejected', reason: offline },
			{ status: 'rejected', reason: offline }
		]);
		expect(refresh).toHaveBeenCalledTimes(1);
		expect(onSessionExpired).not.toHaveBeenCalled();
	});

	it.each([503, 500, 429])(
		'a %i from /refresh is passed on to every waiter (never a 401) and signs nobody out',
		async (status) => {
			const fetch = vi.fn<FetchLike>(async () => json(401, { code: 'unauthenticated' }));
			const body = { code: status === 429 ? 'too_many_attempts' : 'service_unavailable', message: 'Try again.' };
			const refresh = vi.fn(
				async (): Promise<RefreshOutcome> => ({
					status: 'unavailable',
					response: new Response(JSON.stringify(body), { status, headers: { 'Retry-After': '7' } })
				})
			);
			const onSessionExpired = vi.fn();
			const wrapped = createRefreshingFetch({
				baseUrl: BASE,
				fetch,
				refresh,
				onSessionExpired,
				locks: null,
				clock: null
			});

			const responses = await Promise.all([wrapped(get('/profile')), wrapped(get('/profile'))]);

			expect(responses.map((r) => r.status)).toEqual([status, status]);
			expect(responses.map((r) => r.headers.get('Retry-After'))).toEqual(['7', '7']);
			expect(await Promise.all(responses.map((r) => r.json()))).toEqual([body, body]);
			expect(refresh).toHaveBeenCalledTimes(1);
			// Not retried: the access token is still expired.
			expect(fetch).toHaveBeenCalledTimes(2);
			expect(onSessionExpired).not.toHaveBeenCalled();
		}
	);

	it('after a refresh that could not reach the server, the next 401 refreshes again', async () => {
		const api = fakeApi();
		let down = true;
		const refresh = vi.fn(async (): Promise<RefreshOutcome> => {
			if (down) throw new TypeError('Failed to fetch');
			return api.refresh();
		});
		const wrapped = createRefreshingFetch({ baseUrl: BASE, fetch: api.fetch, refresh, locks: null, clock: null });

		await expect(wrapped(get('/profile'))).rejects.toThrow('Failed to fetch');
		down = false;

		expect((await wrapped(get('/profile'))).status).toBe(200);
		expect(refresh).toHaveBeenCalledTimes(2);
	});

	it('resends the original body on the retry', async () => {
		const api = fakeApi();
		const wrapped = createRefreshingFetch({ baseUrl: BASE, ...api, locks: null, clock: null });

		await wrapped(new Request(BASE + '/things', { method: 'POST', body: '{"name":"x"}' }));

		expect(api.bodies).toEqual(['{"name":"x"}', '{"name":"x"}']);
	});

	it('passes other statuses through untouched', async () => {
		const fetch = vi.fn<FetchLike>(async () => json(500));
		const refresh = vi.fn(async () => renewed);
		const wrapped = createRefreshingFetch({ baseUrl: BASE, fetch, refresh, locks: null, clock: null });

		expect((await wrapped(get('/profile'))).status).toBe(500);
		expect(refresh).not.toHaveBeenCalled();
	});

	it('runs the refresh inside the cross-tab lock', async () => {
		const api = fakeApi();
		const held: string[] = [];
		const locks: LockManagerLike = {
			request: async (name, callback) => {
				held.push(name);
				return callback();
			}
		};
		const wrapped = createRefreshingFetch({ baseUrl: BASE, ...api, locks, clock: null });

		await wrapped(get('/profile'));

		expect(held).toEqual([REFRESH_LOCK_NAME]);
	});

	it('serialises two tabs: the second reuses the first tab’s refresh instead of refreshing again', async () => {
		// A real mutual-exclusion lock and a shared clock, as two tabs of one browser would have.
		let queue = Promise.resolve();
		const locks: LockManagerLike = {
			request: (_name, callback) => {
				const run = queue.then(callback);
				queue = run.then(
					() => undefined,
					() => undefined
				);
				return run;
			}
		};
		let stored: number | null = null;
		const clock: RefreshClock = { get: () => stored, set: (v) => (stored = v) };
		let t = 0;
		const now = () => ++t;
		const api = fakeApi({ refreshDelayMs: 10 });
		const tabA = createRefreshingFetch({ baseUrl: BASE, ...api, locks, clock, now });
		const tabB = createRefreshingFetch({ baseUrl: BASE, ...api, locks, clock, now });

		const [a, b] = await Promise.all([tabA(get('/profile')), tabB(get('/profile'))]);

		expect([a.status, b.status]).toEqual([200, 200]);
		expect(api.refresh).toHaveBeenCalledTimes(1);
	});

	describe('with a session hint', () => {
		const T0 = Date.parse('2026-11-29T12:00:00Z');
		const session = {
			access_token_expires_at: '2026-11-29T12:00:03Z',
			refresh_token_expires_at: '2026-12-29T12:00:00Z'
		};
		function memory(): HintStorage {
			const values = new Map<string, string>();
			return {
				getItem: (k) => values.get(k) ?? null,
				setItem: (k, v) => void values.set(k, v),
				removeItem: (k) => void values.delete(k)
			};
		}

		it('refreshes before sending once the access token has expired, so no request meets a 401', async () => {
			const api = fakeApi();
			const hint = createSessionHint(memory());
			hint.save(session, T0);
			let t = T0 + 4_000;
			const refresh = vi.fn(async () => {
				await api.refresh();
				hint.save({ ...session, access_token_expires_at: '2026-11-29T12:00:07Z' }, t);
				return renewed;
			});
			const wrapped = createRefreshingFetch({
				baseUrl: BASE,
				fetch: api.fetch,
				refresh,
				hint,
				locks: null,
				clock: null,
				now: () => t
			});

			const responses = await Promise.all([wrapped(get('/profile')), wrapped(get('/profile'))]);

			expect(responses.map((r) => r.status)).toEqual([200, 200]);
			expect(api.calls).toEqual(['refresh', 'GET /profile', 'GET /profile']);
			expect(refresh).toHaveBeenCalledTimes(1);
			t += 1_000;
			await wrapped(get('/profile'));
			expect(refresh).toHaveBeenCalledTimes(1);
		});

		it('skips its refresh when another tab renewed the session while it waited for the lock', async () => {
			const api = fakeApi();
			const hint = createSessionHint(memory());
			hint.save(session, T0);
			const t = T0 + 4_000;
			const locks: LockManagerLike = {
				request: async (_name, callback) => {
					// The other tab held the lock and renewed the session meanwhile.
					hint.save({ ...session, access_token_expires_at: '2026-11-29T12:00:07Z' }, t);
					await api.refresh();
					api.refresh.mockClear();
					return callback();
				}
			};
			const wrapped = createRefreshingFetch({
				baseUrl: BASE,
				fetch: api.fetch,
				refresh: api.refresh,
				hint,
				locks,
				clock: null,
				now: () => t
			});

			expect((await wrapped(get('/profile'))).status).toBe(200);
			expect(api.refresh).not.toHaveBeenCalled();
		});

		it('when the early refresh fails, sends the request once and reports the expired session', async () => {
			const api = fakeApi({ refreshOk: false });
			const hint = createSessionHint(memory());
			hint.save(session, T0);
			const onSessionExpired = vi.fn();
			const wrapped = createRefreshingFetch({
				baseUrl: BASE,
				fetch: api.fetch,
				refresh: api.refresh,
				hint,
				onSessionExpired,
				locks: null,
				clock: null,
				now: () => T0 + 4_000
			});

			expect((await wrapped(get('/profile'))).status).toBe(401);
			expect(api.calls).toEqual(['refresh', 'GET /profile']);
			expect(onSessionExpired).toHaveBeenCalledTimes(1);
		});

		it('when the early refresh meets a 503, answers with it and signs nobody out', async () => {
			const api = fakeApi();
			const hint = createSessionHint(memory());
			hint.save(session, T0);
			const onSessionExpired = vi.fn();
			const wrapped = createRefreshingFetch({
				baseUrl: BASE,
				fetch: api.fetch,
				refresh: async () => ({ status: 'unavailable', response: json(503, { code: 'service_unavailable' }) }),
				hint,
				onSessionExpired,
				locks: null,
				clock: null,
				now: () => T0 + 4_000
			});

			expect((await wrapped(get('/profile'))).status).toBe(503);
			expect(api.calls).toEqual([]);
			expect(onSessionExpired).not.toHaveBeenCalled();
			expect(hint.accessExpired(T0 + 4_000)).toBe(true);
		});
	});
});

describe('withTimeout', () => {
	it('aborts a request that hangs with a TimeoutError', async () => {
		const hang: FetchLike = stalled;
		const fetch = withTimeout(hang, 20);

		await expect(fetch(get('/profile'))).rejects.toMatchObject({ name: 'TimeoutError' });
	});

	it('releases the cross-tab lock when the refresh hangs, so other tabs are not stuck behind it', async () => {
		const hang: FetchLike = stalled;
		const send = withTimeout(hang, 20);
		let held = false;
		const locks: LockManagerLike = {
			request: async (_name, callback) => {
				held = true;
				try {
					return await callback();
				} finally {
					held = false;
				}
			}
		};
		const wrapped = createRefreshingFetch({
			baseUrl: BASE,
			fetch: async () => json(401),
			refresh: async () => {
				await send(new Request(BASE + '/refresh', { method: 'POST' }));
				return renewed;
			},
			locks,
			clock: null
		});

		await expect(wrapped(get('/profile'))).rejects.toMatchObject({ name: 'TimeoutError' });
		expect(held).toBe(false);
	});

	it('passes a quick answer through, body and all, and keeps the caller’s own abort', async () => {
		const fetch = withTimeout(async (request) => json(200, { url: request.url }), 1_000);
		const response = await fetch(get('/profile'));
		expect(await response.json()).toEqual({ url: BASE + '/profile' });

		const controller = new AbortController();
		const hang = withTimeout(
			stalled,
			1_000
		);
		const pending = hang(new Request(BASE + '/profile', { signal: controller.signal }));
		controller.abort(new DOMException('Stopped', 'AbortError'));
		await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
	});

	it('sends the body of a POST', async () => {
		const fetch = withTimeout(async (request) => json(200, await request.json()), 1_000);
		const response = await fetch(new Request(BASE + '/login', { method: 'POST', body: '{"a":1}' }));
		expect(await response.json()).toEqual({ a: 1 });
	});
});

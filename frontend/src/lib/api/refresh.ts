/**
 * A fetch wrapper that renews an expired session transparently.
 *
 * On a 401 from any endpoint except the ones that establish or end a session (`/login` and its second
 * steps, `/register`, `/refresh`, `/logout`), it asks for one refresh and retries the original request once. Concurrent 401s
 * in a tab share a single refresh; across tabs, refreshes are serialised with the Web Locks API so two tabs
 * never present the same (rotating) refresh token at once. When the session hint says the access token has
 * already expired, it refreshes before sending instead of collecting the 401 first.
 *
 * Only a 401 from `/refresh` ends the session. A refresh that meets a 5xx, a 429, a timeout or a dropped
 * connection is "try again": the caller gets that answer (or that error) instead of the 401, and nobody is
 * signed out.
 */
import type { SessionHint } from './session-hint';

export type FetchLike = (request: Request) => Promise<Response>;

/**
 * What one refresh achieved. `ended`: the API answered 401, the session is over. `unavailable`: the API
 * could not renew it right now (its answer, e.g. a 503 with `Retry-After`), and the session may well live on.
 */
export type RefreshOutcome =
	| { status: 'renewed' }
	| { status: 'ended' }
	| { status: 'unavailable'; response: Response };

/** A refresh that threw (network error, timeout) is `unavailable` too, with the error to rethrow. */
type SharedOutcome = RefreshOutcome | { status: 'failed'; error: unknown };

/** The subset of `navigator.locks` this module needs. */
export interface LockManagerLike {
	request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** Where tabs leave the time of their last successful refresh (e.g. `localStorage`). */
export interface RefreshClock {
	get(): number | null;
	set(value: number): void;
}

export interface RefreshingFetchOptions {
	/** The base URL the API paths are relative to (its path prefix, if any, is stripped before matching). */
	baseUrl: string;
	/** The underlying fetch; the default is the global one. */
	fetch?: FetchLike;
	/** Performs one refresh. It may throw (network down, timeout): that is "try again", never "signed out". */
	refresh: () => Promise<RefreshOutcome>;
	/** Called when the API refused a refresh (401) or a retried request: the session is gone. */
	onSessionExpired?: () => void;
	/** Defaults to `navigator.locks` when the browser has it; without one, tabs are not coordinated. */
	locks?: LockManagerLike | null;
	/** Defaults to `localStorage`; lets a tab skip a refresh another tab finished after its request left. */
	clock?: RefreshClock | null;
	/** Expiry times from the last login or refresh; enables refreshing before a request instead of after a 401. */
	hint?: SessionHint | null;
	/** Injectable for tests. */
	now?: () => number;
}

/**
 * Endpoints that are never refreshed for: their 401 means "wrong credentials" or "no session", never
 * "access token expired"; and `/logout` succeeds without a session, so renewing one first would be waste.
 */
export const NO_REFRESH_PATHS: readonly string[] = [
	'/login',
	'/login/mfa',
	'/login/passkey/start',
	'/login/passkey/finish',
	'/register',
	'/refresh',
	'/logout'
];

export const REFRESH_LOCK_NAME = 'latchkey-refresh';
const REFRESHED_AT_KEY = 'latchkey:refreshed-at';

function defaultLocks(): LockManagerLike | null {
	const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
	return nav?.locks ?? null;
}

function defaultClock(): RefreshClock | null {
	try {
		const storage = globalThis.localStorage;
		if (!storage) return null;
		return {
			get: () => {
				const value = Number(storage.getItem(REFRESHED_AT_KEY));
				return Number.isFinite(value) && value > 0 ? value : null;
			},
			set: (value) => storage.setItem(REFRESHED_AT_KEY, String(value))
		};
	} catch {
		// Storage can be disabled (privacy settings); coordination then relies on the lock alone.
		return null;
	}
}

function apiPath(url: string, baseUrl: string): string {
	const path = new URL(url).pathname;
	const prefix = new URL(baseUrl, 'http://base.invalid').pathname.replace(/\/+$/, '');
	return prefix && path.startsWith(prefix) ? path.slice(prefix.length) || '/' : path;
}

export function createRefreshingFetch(options: RefreshingFetchOptions): FetchLike {
	const send: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
	const locks = options.locks === undefined ? defaultLocks() : options.locks;
	const clock = options.clock === undefined ? defaultClock() : options.clock;
	const now = options.now ?? (() => Date.now());

	// The refresh this tab is currently waiting for, shared by every request that got a 401 meanwhile.
	let inflight: Promise<SharedOutcome> | null = null;

	// When this tab last renewed the session (the clock also knows about other tabs).
	let lastRefreshAt = Number.NEGATIVE_INFINITY;

	/** The time of the last refresh this or (through the clock) another tab made. */
	const refreshedAt = () => Math.max(lastRefreshAt, clock?.get() ?? Number.NEGATIVE_INFINITY);

	// `stillNeeded` is asked once the lock is held: another tab may have renewed the cookies meanwhile.
	async function refreshOnce(stillNeeded: () => boolean): Promise<RefreshOutcome> {
		if (!stillNeeded()) return { status: 'renewed' };
		const outcome = await options.refresh();
		if (outcome.status === 'renewed') {
			lastRefreshAt = now();
			clock?.set(lastRefreshAt);
		}
		return outcome;
	}

	function sharedRefresh(stillNeeded: () => boolean): Promise<SharedOutcome> {
		if (!inflight) {
			const run = () => refreshOnce(stillNeeded);
			inflight = (locks ? locks.request(REFRESH_LOCK_NAME, run) : run())
				.catch((error: unknown): SharedOutcome => ({ status: 'failed', error }))
				.finally(() => {
					inflight = null;
				});
		}
		return inflight;
	}

	/**
	 * What a request whose session could not be renewed right now resolves to: the refresh's own answer
	 * (each waiter gets its own copy of the body) or its error. Never a 401, which would mean "signed out".
	 */
	function tryAgainLater(outcome: Extract<SharedOutcome, { status: 'unavailable' | 'failed' }>): Response {
		if (outcome.status === 'failed') throw outcome.error;
		return outcome.response.clone();
	}

	return async function refreshingFetch(request: Request): Promise<Response> {
		if (NO_REFRESH_PATHS.includes(apiPath(request.url, options.baseUrl))) {
			return send(request);
		}
		const hint = options.hint;
		if (hint?.accessExpired(now())) {
			const early = await sharedRefresh(() => hint.accessExpired(now()));
			if (early.status === 'unavailable' || early.status === 'failed') return tryAgainLater(early);
			if (early.status === 'ended') {
				options.onSessionExpired?.();
				// No session is left to renew: whatever the API answers now is final.
				return send(request);
			}
		}

		// The body of `request` is consumed by sending it, so keep a copy for the retry.
		const retry = request.clone();
		const sentAt = now();
		const response = await send(request);
		if (response.status !== 401) return response;

		// A refresh that finished after this request left means the retry will carry fresh cookies.
		const renewed = await sharedRefresh(() => refreshedAt() < sentAt);
		if (renewed.status === 'unavailable' || renewed.status === 'failed') return tryAgainLater(renewed);
		if (renewed.status === 'ended') {
			options.onSessionExpired?.();
			return response;
		}
		// One retry, sent with the raw fetch: a second 401 is the answer, never another refresh.
		const retried = await send(retry);
		if (retried.status === 401) options.onSessionExpired?.();
		return retried;
	};
}

/** Why a request was aborted by `withTimeout` (`error.name === 'TimeoutError'`, like `AbortSignal.timeout`). */
export function timeoutError(ms: number): DOMException {
	return new DOMException(`The API did not answer within ${ms} ms.`, 'TimeoutError');
}

/**
 * Gives up on every request (and the reading of its body) after `ms` milliseconds, rejecting with a
 * `TimeoutError`. A hung request therefore cannot hold the cross-tab refresh lock, or a form, forever.
 * The caller's own signal still aborts it as before.
 */
export function withTimeout(fetch: FetchLike, ms: number): FetchLike {
	return (request) => {
		const controller = new AbortController();
		const abort = (reason: unknown) => controller.abort(reason);
		if (request.signal.aborted) abort(request.signal.reason);
		else request.signal.addEventListener('abort', () => abort(request.signal.reason), { once: true });
		const timer = setTimeout(() => abort(timeoutError(ms)), ms);
		const release = () => clearTimeout(timer);
		return fetch(new Request(request, { signal: controller.signal })).then(
			(response) => {
				// Keep the deadline for the body, then let the timer go so it holds nothing alive.
				if (!response.body) release();
				else void response.clone().arrayBuffer().then(release, release);
				return response;
			},
			(error: unknown) => {
				release();
				throw error;
			}
		);
	};
}

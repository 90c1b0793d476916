/**
 * A fetch wrapper that renews an expired session transparently.
 *
 * On a 401 from any endpoint except the ones that establish or end a session (`/login`, `/register`,
 * `/refresh`, `/logout`), it asks for one refresh and retries the original request once. Concurrent 401s
 * in a tab share a single refresh; across tabs, refreshes are serialised with the Web Locks API so two tabs never present the same
 * (rotating) refresh token at once. When the session hint says the access token has already expired, it
 * refreshes before sending instead of collecting the 401 first.
 */
import type { SessionHint } from './session-hint';

export type FetchLike = (request: Request) => Promise<Response>;

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
	/** Performs one refresh; resolves to true when the session was renewed. */
	refresh: () => Promise<boolean>;
	/** Called when a refresh failed: the session is gone. */
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
export const NO_REFRESH_PATHS: readonly string[] = ['/login', '/register', '/refresh', '/logout'];

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
	let inflight: Promise<boolean> | null = null;

	// When this tab last renewed the session (the clock also knows about other tabs).
	let lastRefreshAt = Number.NEGATIVE_INFINITY;

	/** The time of the last refresh this or (through the clock) another tab made. */
	const refreshedAt = () => Math.max(lastRefreshAt, clock?.get() ?? Number.NEGATIVE_INFINITY);

	// `stillNeeded` is asked once the lock is held: another tab may have renewed the cookies meanwhile.
	async function refreshOnce(stillNeeded: () => boolean): Promise<boolean> {
		if (!stillNeeded()) return true;
		const ok = await options.refresh();
		if (ok) {
			lastRefreshAt = now();
			clock?.set(lastRefreshAt);
		}
		return ok;
	}

	function sharedRefresh(stillNeeded: () => boolean): Promise<boolean> {
		if (!inflight) {
			const run = () => refreshOnce(stillNeeded);
			inflight = (locks ? locks.request(REFRESH_LOCK_NAME, run) : run())
				.catch(() => false)
				.finally(() => {
					inflight = null;
				});
		}
		return inflight;
	}

	return async function refreshingFetch(request: Request): Promise<Response> {
		if (NO_REFRESH_PATHS.includes(apiPath(request.url, options.baseUrl))) {
			return send(request);
		}
		const hint = options.hint;
		if (hint?.accessExpired(now())) {
			const renewed = await sharedRefresh(() => hint.accessExpired(now()));
			if (!renewed) {
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
		if (!renewed) {
			options.onSessionExpired?.();
			return response;
		}
		// One retry, sent with the raw fetch: a second 401 is the answer, never another refresh.
		const retried = await send(retry);
		if (retried.status === 401) options.onSessionExpired?.();
		return retried;
	}
}

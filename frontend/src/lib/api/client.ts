/**
 * The typed API client: openapi-fetch on the generated `schema.d.ts`, behind the refreshing fetch wrapper.
 * Every call sends the session cookies (`credentials: 'include'`).
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import { createRefreshingFetch, type FetchLike, type LockManagerLike, type RefreshClock } from './refresh';

export type User = components['schemas']['User'];
export type ErrorBody = components['schemas']['Error'];
export type FieldError = NonNullable<ErrorBody['fields']>[number];

/** The API's base URL: `VITE_API_URL`, else the backend's default local address. */
export const API_URL: string = import.meta.env.VITE_API_URL || 'http://localhost:8000';

export interface ApiOptions {
	baseUrl?: string;
	fetch?: FetchLike;
	onSessionExpired?: () => void;
	locks?: LockManagerLike | null;
	clock?: RefreshClock | null;
}

export function createApi(options: ApiOptions = {}) {
	const baseUrl = options.baseUrl ?? API_URL;
	// Bound late, so tests can stub the global and browsers don't see an unbound `fetch` (Illegal invocation).
	const send: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));

	// The refresh itself goes through a client without the wrapper: a 401 from /refresh is final.
	const direct = createClient<paths>({ baseUrl, credentials: 'include', fetch: send });
	const refresh = async () => (await direct.POST('/refresh')).response.ok;

	return createClient<paths>({
		baseUrl,
		credentials: 'include',
		fetch: createRefreshingFetch({
			baseUrl,
			fetch: send,
			refresh,
			onSessionExpired: options.onSessionExpired,
			locks: options.locks,
			clock: options.clock
		})
	});
}

export type Api = ReturnType<typeof createApi>;

/**
 * The typed API client: openapi-fetch on the generated `schema.d.ts`, behind the refreshing fetch wrapper.
 * Every call sends the session cookies (`credentials: 'include'`).
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import { createRefreshingFetch, type FetchLike, type LockManagerLike, type RefreshClock } from './refresh';
import type { SessionHint } from './session-hint';

export type User = components['schemas']['User'];
export type Session = components['schemas']['Session'];
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
	/** Kept up to date with every refresh; see session-hint.ts. */
	hint?: SessionHint | null;
}

export function createApi(options: ApiOptions = {}) {
	const baseUrl = options.baseUrl ?? API_URL;
	// Bound late, so tests can stub the global and browsers don't see an unbound `fetch` (Illegal invocation).
	const send: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));

	// The refresh itself goes through a client without the wrapper: a 401 from /refresh is final.
	const direct = createClient<paths>({ baseUrl, credentials: 'include', fetch: send });
	const refresh = async () => {
		const { data, response } = await direct.POST('/refresh');
		if (data) options.hint?.save(data, Date.now());
		else if (response.status === 401) options.hint?.clear();
		return response.ok;
	};

	return createClient<paths>({
		baseUrl,
		credentials: 'include',
		fetch: createRefreshingFetch({
			baseUrl,
			fetch: send,
			refresh,
			onSessionExpired: options.onSessionExpired,
			locks: options.locks,
			clock: options.clock,
			hint: options.hint
		})
	});
}

export type Api = ReturnType<typeof createApi>;

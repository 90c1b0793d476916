/**
 * The typed API client: openapi-fetch on the generated `schema.d.ts`, behind the refreshing fetch wrapper.
 * Every call sends the session cookies (`credentials: 'include'`) and gives up after `timeoutMs`.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import {
	createRefreshingFetch,
	withTimeout,
	type FetchLike,
	type LockManagerLike,
	type RefreshClock,
	type RefreshOutcome
} from './refresh';
import type { SessionHint } from './session-hint';

export type User = components['schemas']['User'];
export type Session = components['schemas']['Session'];
export type ErrorBody = components['schemas']['Error'];
export type FieldError = NonNullable<ErrorBody['fields']>[number];
export type SessionInfo = components['schemas']['SessionInfo'];
export type ActivityEvent = components['schemas']['ActivityEvent'];
export type MfaStatus = components['schemas']['MfaStatus'];
export type Passkey = components['schemas']['Passkey'];
export type TrustedDevice = components['schemas']['TrustedDevice'];
export type SecondFactorMethod = components['schemas']['SecondFactorMethod'];

/** The API's base URL: `VITE_API_URL`, else the backend's default local address. */
export const API_URL: string = import.meta.env.VITE_API_URL || 'http://localhost:8000';

/** How long any API call may take, headers and body, before it fails with a `TimeoutError`. */
export const DEFAULT_TIMEOUT_MS = 15_000;

export interface ApiOptions {
	baseUrl?: string;
	fetch?: FetchLike;
	/** Called only when the API refused to renew the session (a 401): the user is signed out. */
	onSessionExpired?: () => void;
	locks?: LockManagerLike | null;
	clock?: RefreshClock | null;
	/** Kept up to date with every refresh; see session-hint.ts. */
	hint?: SessionHint | null;
	timeoutMs?: number;
}

export function createApi(options: ApiOptions = {}) {
	const baseUrl = options.baseUrl ?? API_URL;
	// Bound late, so tests can stub the global and browsers don't see an unbound `fetch` (Illegal invocation).
	const send = withTimeout(
		options.fetch ?? ((request) => globalThis.fetch(request)),
		options.timeoutMs ?? DEFAULT_TIMEOUT_MS
	);

	// The refresh itself goes through a client without the wrapper: a 401 from /refresh is final.
	const direct = createClient<paths>({ baseUrl, credentials: 'include', fetch: send });
	const refresh = async (): Promise<RefreshOutcome> => {
		const { data, error, response } = await direct.POST('/refresh');
		if (data) {
			options.hint?.save(data, Date.now());
			return { status: 'renewed' };
		}
		if (response.status === 401) {
			options.hint?.clear();
			return { status: 'ended' };
		}
		// A 5xx or 429: the session lives on. openapi-fetch has read the body, so hand on a copy of it.
		const body = error === undefined ? null : typeof error === 'string' ? error : JSON.stringify(error);
		return {
			status: 'unavailable',
			response: new Response(body, {
				status: response.status,
				statusText: response.statusText,
				headers: response.headers
			})
		};
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

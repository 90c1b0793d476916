/**
 * The auth store: who is signed in, whether the session is still being restored, and the last error.
 * Components read it with `$auth`; the API (through the refresh wrapper) stays the authority.
 */
import { get, writable, type Readable } from 'svelte/store';
import { createApi, type Api, type ErrorBody, type FieldError, type User } from '$lib/api/client';
import { createSessionHint, SESSION_HINT_KEY, type SessionHint } from '$lib/api/session-hint';

export interface AuthState {
	user: User | null;
	/** True until the first session check has answered: render neither signed-in nor signed-out UI yet. */
	loading: boolean;
	/** The last server (or network) message, safe to show. */
	error: string | null;
}

/** What a form needs to show after a failed submit. */
export interface Failure {
	/** The API's error code; absent when the server could not be reached or answered off-contract. */
	code?: ErrorBody['code'];
	message: string;
	fields: FieldError[];
}

export type Result = { ok: true; user: User } | { ok: false; failure: Failure };

export interface Credentials {
	username: string;
	password: string;
}

export const NETWORK_ERROR_MESSAGE = 'Could not reach the server. Check your connection and try again.';

function failureOf(error: ErrorBody | undefined, response: Response): Failure {
	if (error && typeof error.message === 'string') {
		return { code: error.code, message: error.message, fields: error.fields ?? [] };
	}
	return { message: `Unexpected response from the server (${response.status}).`, fields: [] };
}

const networkFailure: Failure = { message: NETWORK_ERROR_MESSAGE, fields: [] };

export interface AuthStore extends Readable<AuthState> {
	/** Restores the session on app load (an expired access token is refreshed on the way). */
	init(): Promise<void>;
	/** Fetches the current user again, keeping the page as it is meanwhile. */
	reload(): Promise<void>;
	login(credentials: Credentials): Promise<Result>;
	/** Creates the account, then signs in with the same credentials. */
	register(credentials: Credentials): Promise<Result>;
	/**
	 * Ends the session on the server, then runs `beforeSignedOut` (e.g. navigate away from a protected page,
	 * so its guard doesn't bounce to /login), then marks the store signed out.
	 */
	logout(beforeSignedOut?: () => Promise<unknown>): Promise<void>;
	/** The session is gone (a refresh failed): become signed out. */
	expire(): void;
	/**
	 * Follows sign-ins and sign-outs made in other tabs, which announce themselves through the session hint
	 * in localStorage (`storage` events). Returns the function that stops following.
	 */
	followOtherTabs(target?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>): () => void;
	clearError(): void;
}

/**
 * `hint`, when given, is kept in step with sign-in and sign-out, and lets `init` skip asking the API when
 * this browser has certainly no session (so a first visit makes no request that is bound to fail).
 */
export function createAuthStore(api: Api, hint: SessionHint | null = null): AuthStore {
	const state = writable<AuthState>({ user: null, loading: true, error: null });
	const { subscribe, update, set } = state;

	async function attempt(run: () => Promise<Result>): Promise<Result> {
		let result: Result;
		try {
			result = await run();
		} catch {
			result = { ok: false, failure: networkFailure };
		}
		if (result.ok) set({ user: result.user, loading: false, error: null });
		else update((s) => ({ ...s, error: result.failure.message }));
		return result;
	}

	async function loadProfile(): Promise<void> {
		try {
			const { data, error, response } = await api.GET('/profile');
			if (data) set({ user: data, loading: false, error: null });
			else if (response.status === 401) set({ user: null, loading: false, error: null });
			else update((s) => ({ ...s, loading: false, error: failureOf(error, response).message }));
		} catch {
			update((s) => ({ ...s, loading: false, error: NETWORK_ERROR_MESSAGE }));
		}
	}

	async function signIn(credentials: Credentials): Promise<Result> {
		const { data, error, response } = await api.POST('/login', { body: credentials });
		if (data) {
			hint?.save(data, Date.now());
			return { ok: true, user: data.user };
		}
		return { ok: false, failure: failureOf(error, response) };
	}

	return {
		subscribe,

		async init() {
			if (hint && !hint.maybeSignedIn(Date.now())) {
				set({ user: null, loading: false, error: null });
				return;
			}
			update((s) => ({ ...s, loading: true }));
			await loadProfile();
		},

		reload: loadProfile,

		login: (credentials) => attempt(() => signIn(credentials)),

		register: (credentials) =>
			attempt(async () => {
				const { data, error, response } = await api.POST('/register', { body: credentials });
				if (!data) return { ok: false, failure: failureOf(error, response) };
				return signIn(credentials);
			}),

		async logout(beforeSignedOut) {
			try {
				await api.POST('/logout');
			} catch {
				// The cookies may survive a network failure, but this tab forgets the user either way.
			}
			hint?.clear();
			await beforeSignedOut?.();
			set({ user: null, loading: false, error: null });
		},

		expire() {
			hint?.clear();
			update((s) => ({ ...s, user: null, loading: false }));
		},

		followOtherTabs(target = globalThis) {
			const onStorage = (event: Event) => {
				const { key, newValue } = event as StorageEvent;
				if (!hint || key !== SESSION_HINT_KEY) return;
				const { user } = get(state);
				if (newValue === null && user) set({ user: null, loading: false, error: null });
				else if (newValue !== null && !user) void loadProfile();
			};
			target.addEventListener('storage', onStorage);
			return () => target.removeEventListener('storage', onStorage);
		},

		clearError() {
			update((s) => ({ ...s, error: null }));
		}
	};
}

let expire = () => {};

const hint = createSessionHint();

/** The app's one API client; a failed refresh signs the app out. */
export const api = createApi({ hint, onSessionExpired: () => expire() });

/** The app's auth store. */
export const auth = createAuthStore(api, hint);
expire = () => auth.expire();

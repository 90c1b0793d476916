/**
 * The auth store: who is signed in, whether that is known yet, the last error, and why the user was last
 * signed out. Components read it with `$auth`; the API (through the refresh wrapper) stays the authority.
 *
 * Only a 401 means "signed out". A 5xx, a 429, a timeout or a dropped connection is shown as "try again"
 * and never clears the session, here or in other tabs.
 */
import { get, writable, type Readable } from 'svelte/store';
import { createApi, type Api, type SecondFactorMethod, type Session, type User } from '$lib/api/client';
import {
	ask,
	failureFromError,
	failureOf,
	networkErrorMessage,
	timeoutMessage,
	type Failure
} from '$lib/api/answer';
import { m } from '$lib/paraglide/messages';
import { createSessionHint, SESSION_HINT_KEY, type SessionHint } from '$lib/api/session-hint';
import type { StepUp } from '$lib/api/mfa';
import type { SecondFactorBody } from '$lib/second-factor';
import type { Ceremony } from '$lib/webauthn';

/** Why the user was signed out, for the sign-in page to say. */
export interface Notice {
	kind: 'session_expired' | 'signed_out_everywhere' | 'account_deleted';
	message: string;
}

export interface AuthState {
	/** With its `roles`, from the sign-in's answer or from `GET /profile`. */
	user: SignedInUser | null;
	/**
	 * True until the API has said whether anyone is signed in: render neither signed-in nor signed-out UI yet.
	 * A check that failed for another reason than a 401 leaves it true, with `error` set.
	 */
	loading: boolean;
	/** The last server (or network) message, safe to show. */
	error: string | null;
	/** Set when the user was signed out by something other than "Log out"; shown on /login. */
	notice: Notice | null;
}

/** The signed-in person and their roles (e.g. `admin`), from the sign-in's answer or `GET /profile`. */
export type SignedInUser = User & { roles?: string[] };

export type Result = { ok: true; user: SignedInUser } | { ok: false; failure: Failure };
/**
 * A sign-in with the right password on an account with two-factor authentication: no session yet. The
 * server keeps a short-lived challenge (an HttpOnly cookie) for `verifySecondFactor`, which finishes it.
 */
export interface SecondFactorNeeded {
	ok: false;
	secondFactor: { methods: SecondFactorMethod[] };
	failure?: never;
}
export type LoginResult = Result | SecondFactorNeeded;
/**
 * A sign-up whose account was made but whose automatic sign-in failed (a 503, a 429, a dropped connection):
 * `accountCreated` says so, and the next `register` for the same username only signs in.
 */
export type RegisterResult = Result | { ok: false; failure: Failure; accountCreated: true };
export type Outcome = { ok: true } | { ok: false; failure: Failure };

export interface Credentials {
	username: string;
	password: string;
}

export { networkErrorMessage, timeoutMessage, type Failure };

const NOTICES: Record<Notice['kind'], () => string> = {
	session_expired: m.notice_session_expired,
	signed_out_everywhere: m.notice_signed_out_everywhere,
	account_deleted: m.notice_account_deleted
};

/** What a notice says, in the current language. */
export function noticeMessage(kind: Notice['kind']): string {
	return NOTICES[kind]();
}

export function notice(kind: Notice['kind']): Notice {
	return { kind, message: noticeMessage(kind) };
}

export interface AuthStore extends Readable<AuthState> {
	/** Asks the API who is signed in (on app load, and to retry after a failed check). */
	init(): Promise<void>;
	/** Fetches the current user again, keeping the page as it is meanwhile. */
	reload(): Promise<void>;
	/** Signs in, or asks for the second factor (`secondFactor`) when the account has two-factor authentication. */
	login(credentials: Credentials): Promise<LoginResult>;
	/**
	 * Finishes a sign-in that asked for a second factor. `401 invalid_mfa_code` leaves the challenge for another
	 * try (up to five); `401 mfa_challenge_expired` means starting again with the password.
	 */
	verifySecondFactor(factor: SecondFactorBody): Promise<Result>;
	/**
	 * Signs in with a passkey, no username needed: the server's options (for any passkey of this site), the
	 * browser's ceremony (`use`, from `$lib/webauthn`, loaded on demand) and the server's check, which finds
	 * whose passkey it was. A passkey is both factors: no code follows. A ceremony's failure comes back as
	 * `use` returned it (with `cancelled` when there was nothing to show).
	 */
	loginWithPasskey(use: (options: unknown) => Promise<Ceremony>): Promise<Result | Extract<Ceremony, { ok: false }>>;
	/**
	 * Creates the account, then signs in with the same credentials. When the account was made but the sign-in
	 * failed, the answer says `accountCreated`, and calling it again for that username only signs in (the
	 * account exists: creating it again would say the username is taken).
	 */
	register(credentials: Credentials): Promise<RegisterResult>;
	/**
	 * Ends the session on the server. Once the server has confirmed, runs `beforeSignedOut` (e.g. navigate
	 * away from a protected page, so its guard doesn't bounce to /login), then marks the store signed out.
	 * When the server could not confirm, the user stays signed in and the failure is returned (and in `error`).
	 */
	logout(beforeSignedOut?: () => Promise<unknown>): Promise<Outcome>;
	/** Ends every session of the user, this one too; once the server confirms, signed out with a notice. */
	logoutEverywhere(): Promise<Outcome>;
	/**
	 * Deletes the account (the password is asked again, and a code when two-factor authentication is on);
	 * once the server confirms, signed out with a notice.
	 */
	deleteAccount(stepUp: StepUp): Promise<Outcome>;
	/** The API refused to renew the session (a 401): become signed out, with a notice if someone was signed in. */
	expire(): void;
	/** The server ended the session on purpose (sign out everywhere, account deleted): say so on /login. */
	signedOut(reason: Notice | null): void;
	/**
	 * Follows sign-ins and sign-outs made in other tabs, which announce themselves through the session hint
	 * in localStorage (`storage` events). Returns the function that stops following.
	 */
	followOtherTabs(target?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>): () => void;
	/**
	 * Asks the API again whenever the browser restores this page from its back-forward cache (`pageshow` with
	 * `persisted`): the page was frozen while the session may have ended (or begun) elsewhere, and no event
	 * reached it. Returns the function that stops following.
	 */
	followPageRestores(target?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>): () => void;
	clearError(): void;
	clearNotice(): void;
}

/** `hint`, when given, is kept in step with sign-in and sign-out (see session-hint.ts). */
export function createAuthStore(api: Api, hint: SessionHint | null = null): AuthStore {
	const state = writable<AuthState>({ user: null, loading: true, error: null, notice: null });
	const { subscribe, update, set } = state;

	const signedIn = (user: SignedInUser) => set({ user, loading: false, error: null, notice: null });

	/** The username of an account `register` made whose sign-in has not succeeded yet. */
	let createdNotSignedIn: string | null = null;

	async function attempt<R extends LoginResult>(run: () => Promise<R>): Promise<R | Result> {
		let result: R | Result;
		try {
			result = await run();
		} catch (error) {
			result = { ok: false, failure: failureFromError(error) };
		}
		if (result.ok) signedIn(result.user);
		// A passkey request that was cancelled (or aborted by the form) has nothing to say.
		else if (result.failure && !('cancelled' in result && result.cancelled)) {
			update((s) => ({ ...s, error: result.failure.message }));
		}
		return result;
	}

	/**
	 * A session answer from `/login`, `/login/mfa` or `/login/passkey/finish`: the user with their roles, so
	 * what depends on them (the header's Admin link) shows at once, without waiting for `GET /profile`.
	 */
	function started(session: Session): Result {
		hint?.save(session, Date.now());
		return { ok: true, user: { ...session.user, roles: session.roles } };
	}

	async function loadProfile(): Promise<void> {
		let failure: Failure;
		try {
			const { data, error, response } = await api.GET('/profile');
			if (data) return signedIn(data);
			if (response.status === 401) {
				return update((s) => ({ ...s, user: null, loading: false, error: null }));
			}
			failure = failureOf(error, response);
		} catch (error) {
			failure = failureFromError(error);
		}
		// Whether anyone is signed in is as known (or unknown) as before: keep it, and say what happened.
		update((s) => ({ ...s, error: failure.message }));
	}

	async function signIn(credentials: Credentials): Promise<LoginResult> {
		const { data, error, response } = await api.POST('/login', { body: credentials });
		if (!data) return { ok: false, failure: failureOf(error, response) };
		if ('mfa_required' in data) return { ok: false, secondFactor: { methods: data.methods } };
		return started(data);
	}

	function becomeSignedOut(reason: Notice | null) {
		hint?.clear();
		set({ user: null, loading: false, error: null, notice: reason });
	}

	return {
		subscribe,

		async init() {
			update((s) => ({ ...s, error: null }));
			await loadProfile();
		},

		reload: loadProfile,

		login: (credentials) => attempt(() => signIn(credentials)),

		verifySecondFactor: (factor) =>
			attempt(async (): Promise<Result> => {
				const { data, error, response } = await api.POST('/login/mfa', { body: factor });
				return data ? started(data) : { ok: false, failure: failureOf(error, response) };
			}),

		loginWithPasskey: (use) =>
			attempt(async (): Promise<Result | Extract<Ceremony, { ok: false }>> => {
				const start = await ask(() => api.POST('/login/passkey/start'));
				if (!start.ok) return start;
				const ceremony = await use(start.data.options);
				if (!ceremony.ok) return ceremony;
				const { data, error, response } = await api.POST('/login/passkey/finish', {
					body: { ceremony: start.data.ceremony, credential: ceremony.credential }
				});
				return data ? started(data) : { ok: false, failure: failureOf(error, response) };
			}),

		register: async (credentials) => {
			const exists = createdNotSignedIn !== null && createdNotSignedIn === credentials.username;
			const result = await attempt(async (): Promise<LoginResult> => {
				if (!exists) {
					const { data, error, response } = await api.POST('/register', { body: credentials });
					if (!data) return { ok: false, failure: failureOf(error, response) };
					createdNotSignedIn = credentials.username;
				}
				return signIn(credentials);
			});
			if (result.ok) {
				createdNotSignedIn = null;
				return result;
			}
			// A new account has no second factor; should the server ask for one anyway, it is not signed in.
			const failure = result.failure ?? { message: m.register_sign_in_to_continue(), fields: [] };
			return createdNotSignedIn === credentials.username
				? { ok: false, failure, accountCreated: true }
				: { ok: false, failure };
		},

		async logout(beforeSignedOut) {
			let failure: Failure;
			try {
				const { error, response } = await api.POST('/logout');
				// A 401 says there is no session to end: signed out as well.
				if (response.ok || response.status === 401) {
					await beforeSignedOut?.();
					becomeSignedOut(null);
					return { ok: true };
				}
				failure = failureOf(error, response);
			} catch (error) {
				failure = failureFromError(error);
			}
			// The session and its cookies may well live on: stay signed in and say so.
			update((s) => ({ ...s, error: m.could_not_log_out({ reason: failure.message }) }));
			return { ok: false, failure };
		},

		async logoutEverywhere() {
			const answer = await ask(() => api.POST('/logout-all'));
			if (!answer.ok) return answer;
			becomeSignedOut(notice('signed_out_everywhere'));
			return { ok: true };
		},

		async deleteAccount(stepUp) {
			const answer = await ask(() => api.DELETE('/profile', { body: stepUp }));
			if (!answer.ok) return answer;
			becomeSignedOut(notice('account_deleted'));
			return { ok: true };
		},

		expire() {
			const { user, notice: current } = get(state);
			becomeSignedOut(user ? notice('session_expired') : current);
		},

		signedOut: becomeSignedOut,

		followOtherTabs(target = globalThis) {
			const onStorage = (event: Event) => {
				const { key, newValue } = event as StorageEvent;
				if (!hint || key !== SESSION_HINT_KEY) return;
				const { user } = get(state);
				// Another tab removes the hint only once the server has ended the session.
				if (newValue === null && user) set({ user: null, loading: false, error: null, notice: null });
				else if (newValue !== null && !user) void loadProfile();
			};
			target.addEventListener('storage', onStorage);
			return () => target.removeEventListener('storage', onStorage);
		},

		followPageRestores(target = globalThis) {
			const onPageShow = (event: Event) => {
				if (!(event as PageTransitionEvent).persisted) return;
				// A first check still running answers the question anyway.
				if (get(state).loading && !get(state).error) return;
				void loadProfile();
			};
			target.addEventListener('pageshow', onPageShow);
			return () => target.removeEventListener('pageshow', onPageShow);
		},

		clearError() {
			update((s) => ({ ...s, error: null }));
		},

		clearNotice() {
			update((s) => ({ ...s, notice: null }));
		}
	};
}

let expire = () => {};

const hint = createSessionHint();

/** The app's one API client; a refresh the API refuses (401) signs the app out. */
export const api = createApi({ hint, onSessionExpired: () => expire() });

/** The app's auth store. */
export const auth = createAuthStore(api, hint);
expire = () => auth.expire();

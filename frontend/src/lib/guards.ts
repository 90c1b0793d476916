/**
 * Route guards, run in `load` functions: a convenience that sends people where they can do something. The
 * API authorizes every call whatever the page shows. They read the auth store as it stands (never waiting
 * for the session check, so no page is held blank), and depend on `AUTH_DEPENDENCY`: the root layout
 * invalidates it whenever who is signed in changes or becomes known, so every guard runs again then.
 */
import { redirect } from '@sveltejs/kit';
import { get } from 'svelte/store';
import { loginUrlFor, safeRedirect } from '$lib/redirect';
import { auth, type AuthState } from '$lib/stores/auth';

export const AUTH_DEPENDENCY = 'app:auth';

/** The sign-in page for someone who is not signed in here: back to this page afterwards, unless the account is gone. */
export function signInUrl(url: URL, state: Pick<AuthState, 'notice'>): string {
	const comesBack = !state.notice || state.notice.kind === 'session_expired';
	const here = url.pathname + url.search;
	return comesBack && here !== '/' ? loginUrlFor(here) : '/login';
}

/**
 * Signed out by the server (session expired or revoked, signed out everywhere, account deleted): go and say
 * so on /login, from any page.
 */
export function sayWhySignedOut(url: URL, state: AuthState = get(auth)): void {
	if (state.notice && !state.user && !state.loading && url.pathname !== '/login') {
		redirect(307, signInUrl(url, state));
	}
}

/** Pages for signed-in people only. While the check runs (or after it failed) the page shows that instead. */
export function requireSignedIn(url: URL, state: AuthState = get(auth)): void {
	if (!state.user && !state.loading) redirect(307, signInUrl(url, state));
}

/** The sign-in and sign-up pages: a signed-in person goes on to where they were headed. */
export function leaveIfSignedIn(url: URL, state: AuthState = get(auth)): void {
	if (state.user) redirect(307, safeRedirect(url.searchParams.get('redirectTo')));
}

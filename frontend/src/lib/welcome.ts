/**
 * The post-sign-up prompt: the register form says whose account it is making, and once that account is
 * signed in the register page's guard sends the person to `/welcome` (once) instead of onward.
 */
import { safeRedirect } from '$lib/redirect';

let expected: string | null = null;

/** Called just before the sign-up request. */
export function expectWelcome(username: string): void {
	expected = username.trim().toLowerCase();
}

/** True once for the account just made: the welcome is shown to it and to nobody else. */
export function takeWelcome(username: string): boolean {
	const due = expected !== null && expected === username.toLowerCase();
	if (due) expected = null;
	return due;
}

/** `/welcome`, keeping where the person was headed (already a safe path, or the home page). */
export function welcomeUrl(redirectTo: string | null): string {
	const onward = safeRedirect(redirectTo);
	return onward === '/' ? '/welcome' : `/welcome?redirectTo=${encodeURIComponent(onward).replaceAll('%2F', '/')}`;
}

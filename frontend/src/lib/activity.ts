/**
 * Security events as a person reads them. The API may add kinds in later versions: an unknown kind is
 * shown by its own name ("account_locked" → "Account locked"), never dropped.
 */

export interface KindText {
	/** What happened, as a short sentence. */
	title: string;
	/** `warning` for events that may mean someone else is trying to get in. */
	tone: 'info' | 'warning';
}

const KINDS: Record<string, KindText> = {
	signed_in: { title: 'Signed in', tone: 'info' },
	sign_in_failed: { title: 'Failed sign-in attempt', tone: 'warning' },
	signed_out: { title: 'Signed out', tone: 'info' },
	session_revoked: { title: 'A session was signed out from the account page', tone: 'info' },
	signed_out_everywhere: { title: 'Signed out everywhere', tone: 'info' },
	password_changed: { title: 'Password changed', tone: 'info' },
	refresh_token_reuse_detected: {
		title: 'A stolen or copied session was detected and ended',
		tone: 'warning'
	},
	account_disabled: { title: 'Account disabled by an administrator', tone: 'warning' },
	account_enabled: { title: 'Account enabled again by an administrator', tone: 'info' },
	password_reset: { title: 'Password reset by an administrator', tone: 'warning' },
	second_factor_added: { title: 'Two-factor authentication turned on', tone: 'info' },
	second_factor_removed: { title: 'Two-factor authentication turned off', tone: 'info' },
	second_factor_used: { title: 'Code from the authenticator app used', tone: 'info' },
	// A recovery code stands in for a lost phone; one used by someone else means they have the codes.
	recovery_code_used: { title: 'Recovery code used', tone: 'warning' },
	second_factor_failed: { title: 'Wrong two-factor code entered', tone: 'warning' },
	recovery_codes_replaced: { title: 'Recovery codes replaced', tone: 'info' },
	passkey_added: { title: 'Passkey added', tone: 'info' },
	passkey_removed: { title: 'Passkey removed', tone: 'info' },
	signed_in_with_passkey: { title: 'Signed in with a passkey', tone: 'info' },
	factors_reset: { title: 'Second factors removed by an administrator', tone: 'warning' }
};

/** The kinds with words of their own (the rest are shown by their name). */
export const KNOWN_KINDS: readonly string[] = Object.keys(KINDS);

export function describeKind(kind: string): KindText {
	const known = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
	if (known) return known;
	const words = kind.replaceAll(/[_-]+/g, ' ').trim();
	return { title: words ? words[0].toUpperCase() + words.slice(1) : 'Account event', tone: 'info' };
}

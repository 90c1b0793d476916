/**
 * Security events as a person reads them, and the filters of the activity page. The API may add kinds in
 * later versions: an unknown kind is shown by its own name ("account_locked" → "Account locked"), never
 * dropped, and "All" still lists it.
 */
import type { ActivityKind } from '$lib/api/account';
import { m } from '$lib/paraglide/messages';

export interface KindText {
	/** What happened, as a short sentence. */
	title: string;
	/** `warning` for events that may mean someone else is trying to get in. */
	tone: 'info' | 'warning';
}

const KINDS: Record<ActivityKind, { title: () => string; tone: KindText['tone'] }> = {
	signed_in: { title: m.kind_signed_in, tone: 'info' },
	sign_in_failed: { title: m.kind_sign_in_failed, tone: 'warning' },
	signed_out: { title: m.kind_signed_out, tone: 'info' },
	session_revoked: { title: m.kind_session_revoked, tone: 'info' },
	signed_out_everywhere: { title: m.kind_signed_out_everywhere, tone: 'info' },
	password_changed: { title: m.kind_password_changed, tone: 'info' },
	refresh_token_reuse_detected: { title: m.kind_refresh_token_reuse_detected, tone: 'warning' },
	account_disabled: { title: m.kind_account_disabled, tone: 'warning' },
	account_enabled: { title: m.kind_account_enabled, tone: 'info' },
	password_reset: { title: m.kind_password_reset, tone: 'warning' },
	second_factor_added: { title: m.kind_second_factor_added, tone: 'info' },
	second_factor_removed: { title: m.kind_second_factor_removed, tone: 'info' },
	second_factor_used: { title: m.kind_second_factor_used, tone: 'info' },
	// A recovery code stands in for a lost phone; one used by someone else means they have the codes.
	recovery_code_used: { title: m.kind_recovery_code_used, tone: 'warning' },
	second_factor_failed: { title: m.kind_second_factor_failed, tone: 'warning' },
	recovery_codes_replaced: { title: m.kind_recovery_codes_replaced, tone: 'info' },
	passkey_added: { title: m.kind_passkey_added, tone: 'info' },
	passkey_removed: { title: m.kind_passkey_removed, tone: 'info' },
	signed_in_with_passkey: { title: m.kind_signed_in_with_passkey, tone: 'info' },
	factors_reset: { title: m.kind_factors_reset, tone: 'warning' },
	// A new address, if not the owner's doing, is how an attacker would take recovery over.
	email_changed: { title: m.kind_email_changed, tone: 'warning' },
	email_verified: { title: m.kind_email_verified, tone: 'info' },
	email_removed: { title: m.kind_email_removed, tone: 'warning' },
	recovery_key_created: { title: m.kind_recovery_key_created, tone: 'info' },
	app_allowed: { title: m.kind_app_allowed, tone: 'info' },
	app_revoked: { title: m.kind_app_revoked, tone: 'info' },
	// What an administrator did to the account: each shows in the owner's own activity.
	admin_sessions_revoked: { title: m.kind_admin_sessions_revoked, tone: 'warning' },
	admin_unlocked: { title: m.kind_admin_unlocked, tone: 'info' },
	admin_reset_link: { title: m.kind_admin_reset_link, tone: 'warning' },
	role_granted: { title: m.kind_role_granted, tone: 'info' },
	role_revoked: { title: m.kind_role_revoked, tone: 'info' }
};

/** The kinds with words of their own (the rest are shown by their name). */
export const KNOWN_KINDS = Object.keys(KINDS) as ActivityKind[];

export function describeKind(kind: string): KindText {
	const known = Object.hasOwn(KINDS, kind) ? KINDS[kind as ActivityKind] : undefined;
	if (known) return { title: known.title(), tone: known.tone };
	const words = kind.replaceAll(/[_-]+/g, ' ').trim();
	return { title: words ? words[0].toUpperCase() + words.slice(1) : m.kind_unknown(), tone: 'info' };
}

/** The activity page's filters (`?show=…`), each a set of kinds the API is asked for. */
export const ACTIVITY_FILTERS = {
	'sign-ins': [
		'signed_in',
		'signed_in_with_passkey',
		'sign_in_failed',
		'second_factor_used',
		'second_factor_failed',
		'recovery_code_used'
	],
	sessions: ['signed_out', 'session_revoked', 'signed_out_everywhere', 'refresh_token_reuse_detected'],
	changes: [
		'password_changed',
		'password_reset',
		'second_factor_added',
		'second_factor_removed',
		'recovery_codes_replaced',
		'passkey_added',
		'passkey_removed',
		'account_disabled',
		'account_enabled',
		'app_allowed',
		'app_revoked',
		'admin_sessions_revoked',
		'admin_unlocked',
		'admin_reset_link',
		'role_granted',
		'role_revoked'
	],
	warnings: KNOWN_KINDS.filter((kind) => KINDS[kind].tone === 'warning')
} as const satisfies Record<string, readonly ActivityKind[]>;

export type ActivityFilter = keyof typeof ACTIVITY_FILTERS;

export const FILTER_LABELS: Record<ActivityFilter | 'all', () => string> = {
	all: m.activity_filter_all,
	'sign-ins': m.activity_filter_sign_ins,
	sessions: m.activity_filter_sessions,
	changes: m.activity_filter_changes,
	warnings: m.activity_filter_warnings
};

/** The filter `?show=` names, or null for all events (an unknown name reads as all). */
export function filterFrom(value: string | null): ActivityFilter | null {
	return value && Object.hasOwn(ACTIVITY_FILTERS, value) ? (value as ActivityFilter) : null;
}

/**
 * Account recovery in the browser: the token of a mailed link (read from the URL's fragment, which never
 * reaches a server log), which proof a reset page asks for, the request body for it, and the recovery key's
 * file.
 */
import { m } from '$lib/paraglide/messages';
import type { ResetRequest } from '$lib/api/recovery';
import { normalizeCode, normalizeRecoveryCode, validateSecondFactor } from '$lib/second-factor';
import { validatePassword } from '$lib/validation';

/** `#token=…` of a link, or null. Only the fragment: a token in the query would be logged by servers. */
export function fragmentToken(hash: string): string | null {
	const params = new URLSearchParams(hash.replace(/^#/, ''));
	const token = params.get('token')?.trim();
	return token ? token : null;
}

/** The address without its fragment, for `history.replaceState`, so the token leaves the address bar. */
export function withoutFragment(url: URL): string {
	return url.pathname + url.search;
}

/**
 * Reads a link's token from the page's fragment and takes it out of the address bar (and so out of the
 * history, bookmarks and anything shared from the tab). The router's own history state is kept as it is:
 * SvelteKit's `replaceState` cannot run before the router has started, which is when a link is opened.
 */
export function takeFragmentToken(
	location: Pick<Location, 'href'> = globalThis.location,
	history: Pick<History, 'state' | 'replaceState'> = globalThis.history
): string | null {
	const url = new URL(location.href);
	const token = fragmentToken(url.hash);
	if (url.hash) history.replaceState(history.state, '', withoutFragment(url));
	return token;
}

/**
 * The proof a reset asks for: a link's token, a recovery key (`?with=key`), a recovery code with a code
 * from the authenticator app (`?with=code`), or none yet (the page offers the ways back).
 */
export type Proof = { kind: 'token'; token: string } | { kind: 'key' } | { kind: 'code' } | { kind: 'choose' };

export function proofFor(url: URL): Proof {
	const token = fragmentToken(url.hash);
	if (token) return { kind: 'token', token };
	const way = url.searchParams.get('with');
	if (way === 'key' || way === 'code') return { kind: way };
	return { kind: 'choose' };
}

export interface ResetFields {
	username: string;
	recoveryKey: string;
	recoveryCode: string;
	code: string;
	newPassword: string;
}

export type ResetField = 'username' | 'recovery_key' | 'recovery_code' | 'code' | 'new_password';

/** The request: the new password and exactly the one proof chosen, nothing else. */
export function resetBody(proof: Exclude<Proof, { kind: 'choose' }>, fields: ResetFields): ResetRequest {
	const new_password = fields.newPassword;
	if (proof.kind === 'token') return { token: proof.token, new_password };
	const username = fields.username.trim();
	if (proof.kind === 'key') return { username, recovery_key: fields.recoveryKey.trim(), new_password };
	return {
		username,
		recovery_code: normalizeRecoveryCode(fields.recoveryCode),
		code: normalizeCode(fields.code),
		new_password
	};
}

/** What is missing or malformed before anything is sent, by the request's field names, in form order. */
export function checkReset(
	proof: Exclude<Proof, { kind: 'choose' }>,
	fields: ResetFields
): Partial<Record<ResetField, string>> {
	const errors: Partial<Record<ResetField, string>> = {};
	if (proof.kind !== 'token' && !fields.username.trim()) errors.username = m.login_enter_username();
	if (proof.kind === 'key' && !fields.recoveryKey.trim()) errors.recovery_key = m.reset_enter_key();
	if (proof.kind === 'code') {
		const recovery = validateSecondFactor({ kind: 'recovery_code', value: fields.recoveryCode });
		if (recovery) errors.recovery_code = recovery;
		const code = validateSecondFactor({ kind: 'code', value: fields.code });
		if (code) errors.code = code;
	}
	const password = validatePassword(fields.newPassword);
	if (password) errors.new_password = password;
	return errors;
}

/** What a refused proof (`400 invalid_token`) means for each kind of proof. */
export function invalidProofMessage(kind: Exclude<Proof['kind'], 'choose'>): string {
	if (kind === 'token') return m.reset_invalid_link();
	if (kind === 'key') return m.reset_invalid_key();
	return m.reset_invalid_code();
}

export function recoveryKeyFile(key: string, username: string, issuedAt: Date): string {
	return [
		m.recovery_key_file_title({ username }),
		m.recovery_key_file_issued({ date: issuedAt.toISOString().slice(0, 10) }),
		m.recovery_key_file_use(),
		'',
		key,
		''
	].join('\n');
}

/** "latchkey-recovery-key-alice.txt": a name safe on every file system. */
export function recoveryKeyFileName(username: string): string {
	return `latchkey-recovery-key-${username.replace(/[^A-Za-z0-9_.-]/g, '_')}.txt`;
}

/** An address worth sending: the server decides the rest (and says so on the field). */
export function validateEmail(value: string): string | null {
	const email = value.trim();
	if (!email) return m.email_enter();
	if (email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email)) return m.email_invalid();
	return null;
}

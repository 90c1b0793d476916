/**
 * The second factor a person types: a code from their authenticator app (RFC 6238: six digits) or one of
 * their recovery codes. The same field serves the sign-in step and the account page's step-up checks.
 */
import { m } from '$lib/paraglide/messages';
import type { Failure } from '$lib/api/answer';

export type SecondFactorKind = 'code' | 'recovery_code';

export interface SecondFactor {
	kind: SecondFactorKind;
	value: string;
}

/** The request fields for it: `{ code }` or `{ recovery_code }`, as `/login/mfa` and every step-up take. */
export type SecondFactorBody = { code: string; recovery_code?: never } | { recovery_code: string; code?: never };

export const CODE_DIGITS = 6;

/** What people paste from an app shows the code as "123 456": only the digits count. */
export function normalizeCode(value: string): string {
	return value.replace(/[\s-]/g, '');
}

/** Recovery codes are compared by the server; spaces around a pasted one are never part of it. */
export function normalizeRecoveryCode(value: string): string {
	return value.trim();
}

export function validateSecondFactor({ kind, value }: SecondFactor): string | null {
	if (kind === 'recovery_code') {
		return normalizeRecoveryCode(value) ? null : m.second_factor_enter_recovery();
	}
	const code = normalizeCode(value);
	if (!code) return m.second_factor_enter_code();
	if (!new RegExp(`^\\d{${CODE_DIGITS}}$`).test(code)) return m.second_factor_code_digits({ digits: CODE_DIGITS });
	return null;
}

export function secondFactorBody({ kind, value }: SecondFactor): SecondFactorBody {
	return kind === 'code' ? { code: normalizeCode(value) } : { recovery_code: normalizeRecoveryCode(value) };
}

/**
 * How a step-up answer reads on a form with a password field and (when two-factor authentication is on) a
 * code field: a wrong password on the password field, a wrong or missing code on the code field.
 * `second_factor_required` means the page did not know two-factor authentication is on: show the field.
 */
export function stepUpCodeFields<P extends string>(password: P) {
	return {
		invalid_credentials: password,
		invalid_mfa_code: 'second_factor',
		second_factor_required: 'second_factor'
	} as const;
}

/** True when the server asks for a second factor the form did not send (2FA was turned on elsewhere). */
export function needsSecondFactor(failure: Failure): boolean {
	return failure.code === 'second_factor_required';
}

/** Fewer than this many recovery codes left: the account page suggests replacing them. */
export const FEW_RECOVERY_CODES = 3;

/** The text file "Download" saves: what the codes are for, one code a line. */
export function recoveryCodesFile(codes: readonly string[], username: string, issuedAt: Date): string {
	return [
		m.codes_file_title({ username }),
		m.codes_file_issued({ date: issuedAt.toISOString().slice(0, 10) }),
		m.codes_file_keep(),
		'',
		...codes,
		''
	].join('\n');
}

/** "latchkey-recovery-codes-alice.txt": a name safe on every file system. */
export function recoveryCodesFileName(username: string): string {
	return `latchkey-recovery-codes-${username.replace(/[^A-Za-z0-9_.-]/g, '_')}.txt`;
}

/** The secret as an app asks for it when typed: groups of four ("JBSW Y3DP EHPK 3PXP"). */
export function groupSecret(secret: string): string {
	return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

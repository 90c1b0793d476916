/** The catalogue's words for the API's error codes, for languages other than the API's English. */
import { m } from '$lib/paraglide/messages';
import type { ErrorBody } from './client';

const WORDS: Partial<Record<ErrorBody['code'], (status: number) => string>> = {
	invalid_credentials: (status) => (status === 401 ? m.api_invalid_credentials() : m.api_wrong_password()),
	username_taken: () => m.api_username_taken(),
	account_disabled: () => m.api_account_disabled(),
	invalid_mfa_code: () => m.api_invalid_mfa_code(),
	mfa_challenge_expired: () => m.api_mfa_challenge_expired(),
	second_factor_required: () => m.api_second_factor_required(),
	mfa_already_enabled: () => m.api_mfa_already_enabled(),
	mfa_not_enabled: () => m.api_mfa_not_enabled(),
	invalid_passkey: () => m.api_invalid_passkey(),
	passkey_already_registered: () => m.api_passkey_already_registered(),
	too_many_attempts: () => m.api_too_many_attempts(),
	validation_failed: () => m.api_validation_failed(),
	not_found: () => m.api_not_found(),
	role_exists: () => m.api_role_exists(),
	role_built_in: () => m.api_role_built_in(),
	last_admin: () => m.api_last_admin(),
	cannot_disable_self: () => m.api_cannot_disable_self(),
	service_unavailable: () => m.api_service_unavailable(),
	internal: () => m.api_internal(),
	invalid_token: () => m.api_invalid_token(),
	email_disabled: () => m.api_email_disabled()
};

/** The words for `code` (a 401 and a 403 `invalid_credentials` read differently), or null for a code without. */
export function errorWords(code: ErrorBody['code'], status: number): string | null {
	return WORDS[code]?.(status) ?? null;
}

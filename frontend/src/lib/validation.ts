/**
 * Client-side mirrors of the API's registration rules, so people see a problem before a round trip.
 * The API is the authority; `validation.test.ts` fails when these drift from the constraints in openapi.json.
 */
import { m } from '$lib/paraglide/messages';

export const USERNAME_MIN_LENGTH = 3;
export const USERNAME_MAX_LENGTH = 32;
export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

const usernamePattern = new RegExp(USERNAME_PATTERN);

/** Length in Unicode code points, as the API (and JSON Schema's minLength) counts it. */
export function codePointLength(value: string): number {
	return [...value].length;
}

export function validateUsername(value: string): string | null {
	const length = codePointLength(value);
	if (length === 0) return m.validation_enter_username();
	if (length < USERNAME_MIN_LENGTH) return m.validation_at_least({ count: USERNAME_MIN_LENGTH });
	if (length > USERNAME_MAX_LENGTH) return m.validation_at_most({ count: USERNAME_MAX_LENGTH });
	if (!usernamePattern.test(value)) {
		return m.validation_username_pattern();
	}
	return null;
}

export function validatePassword(value: string): string | null {
	const length = codePointLength(value);
	if (length === 0) return m.validation_enter_password();
	if (length < PASSWORD_MIN_LENGTH) return m.validation_at_least({ count: PASSWORD_MIN_LENGTH });
	if (length > PASSWORD_MAX_LENGTH) return m.validation_at_most({ count: PASSWORD_MAX_LENGTH });
	return null;
}

export const usernameHint = () => m.validation_username_hint({ min: USERNAME_MIN_LENGTH, max: USERNAME_MAX_LENGTH });
export const passwordHint = () => m.validation_password_hint({ min: PASSWORD_MIN_LENGTH });

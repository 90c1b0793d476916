/**
 * Client-side mirrors of the API's registration rules, so people see a problem before a round trip.
 * The API is the authority; `validation.test.ts` fails when these drift from the constraints in openapi.json.
 */

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
	if (length === 0) return 'Enter a username.';
	if (length < USERNAME_MIN_LENGTH) return `Use at least ${USERNAME_MIN_LENGTH} characters.`;
	if (length > USERNAME_MAX_LENGTH) return `Use at most ${USERNAME_MAX_LENGTH} characters.`;
	if (!usernamePattern.test(value)) {
		return 'Start with a letter or digit; then use only letters, digits, “_”, “.” and “-”.';
	}
	return null;
}

export function validatePassword(value: string): string | null {
	const length = codePointLength(value);
	if (length === 0) return 'Enter a password.';
	if (length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
	if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
	return null;
}

export const usernameHint = `${USERNAME_MIN_LENGTH}–${USERNAME_MAX_LENGTH} characters: letters, digits, “_”, “.”, “-”.`;
export const passwordHint = `At least ${PASSWORD_MIN_LENGTH} characters. A few random words work well.`;

/**
 * The account page's second-factor calls: two-factor authentication with an authenticator app (TOTP,
 * RFC 6238) and its recovery codes, and passkeys. Every change asks the password again, and a current
 * code or a recovery code when two-factor authentication is on (a step-up); the server decides.
 */
import { ask } from './answer';
import type { Api } from './client';
import type { SecondFactorBody } from '$lib/second-factor';
import type { Ceremony } from '$lib/webauthn';

/** The password, and the second factor when two-factor authentication is on. */
export type StepUp = { password: string } & (SecondFactorBody | { code?: never; recovery_code?: never });

export function mfaStatus(api: Api) {
	return ask(() => api.GET('/mfa'));
}

/** Starts (or restarts) enrolment: the secret and its `otpauth://` URI. `409 mfa_already_enabled` when on. */
export function startTotp(api: Api, password: string) {
	return ask(() => api.POST('/mfa/totp', { body: { password } }));
}

/** Turns two-factor authentication on with a first code: the ten recovery codes, shown once. */
export function confirmTotp(api: Api, code: string) {
	return ask(() => api.POST('/mfa/totp/confirm', { body: { code } }));
}

export function disableTotp(api: Api, body: StepUp) {
	return ask(() => api.DELETE('/mfa/totp', { body }));
}

/** Ten new recovery codes; the old ones stop working. */
export function replaceRecoveryCodes(api: Api, body: StepUp) {
	return ask(() => api.POST('/mfa/recovery-codes', { body }));
}

export async function listPasskeys(api: Api) {
	const answer = await ask(() => api.GET('/passkeys'));
	return answer.ok ? { ok: true as const, data: answer.data.passkeys } : answer;
}

export function removePasskey(api: Api, id: string, body: StepUp) {
	return ask(() => api.DELETE('/passkeys/{id}', { params: { path: { id } }, body }));
}

/** Renames a passkey. A name the server refuses is `400 validation_failed` with a `name` field error. */
export function renamePasskey(api: Api, id: string, name: string) {
	return ask(() => api.PATCH('/passkeys/{id}', { params: { path: { id } }, body: { name } }));
}

/**
 * Adds a passkey: the step-up starts the ceremony on the server, `create` runs the browser's part (see
 * `$lib/webauthn`, loaded on demand), and the server stores the credential under `name` (without one, under
 * the name it suggested for this device, e.g. "Chrome on macOS").
 */
export async function addPasskey(
	api: Api,
	body: StepUp & { name?: string },
	create: (options: unknown) => Promise<Ceremony>
) {
	const { name, ...stepUp } = body;
	const started = await ask(() => api.POST('/passkeys/register/start', { body: stepUp }));
	if (!started.ok) return started;
	const made = await create(started.data.options);
	if (!made.ok) return made;
	return ask(() =>
		api.POST('/passkeys/register/finish', {
			body: { ceremony: started.data.ceremony, name: name || undefined, credential: made.credential }
		})
	);
}

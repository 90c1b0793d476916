/**
 * Account recovery's calls: what the server offers (`/features`: does it send mail?), asking for a reset
 * link, resetting a forgotten password with one proof, the recovery key, and the account's email address.
 */
import { ask, type Answer } from './answer';
import type { Api } from './client';
import type { StepUp } from './mfa';
import type { components } from './schema';

export type Features = components['schemas']['Features'];
export type Profile = components['schemas']['Profile'];
export type ResetRequest = components['schemas']['ResetRequest'];

let features: Promise<Answer<Features>> | null = null;

/** Whether the server sends mail, asked once per page load (a failed answer is asked again next time). */
export function serverFeatures(api: Api): Promise<Answer<Features>> {
	features ??= ask(() => api.GET('/features')).then((answer) => {
		if (!answer.ok) features = null;
		return answer;
	});
	return features;
}

/** The signed-in account with its email address and recovery key state. */
export function getProfile(api: Api): Promise<Answer<Profile>> {
	return ask(() => api.GET('/profile'));
}

/** Always 202 with the same body, whatever the name: a link is mailed if the account has a verified address. */
export function forgotPassword(api: Api, username: string) {
	return ask(() => api.POST('/password/forgot', { body: { username } }));
}

/** A new password with exactly one proof (see `resetBody` in `$lib/recovery`). Signs nobody in. */
export function resetPassword(api: Api, body: ResetRequest) {
	return ask(() => api.POST('/password/reset', { body }));
}

/** A new recovery key, shown once; any earlier key stops working. */
export function makeRecoveryKey(api: Api, stepUp: StepUp) {
	return ask(() => api.POST('/recovery-key', { body: stepUp }));
}

/** Sets (or replaces) the address; a link to verify it is mailed. `409 email_disabled` when mail is off. */
export function setEmail(api: Api, email: string, stepUp: StepUp) {
	return ask(() => api.POST('/email', { body: { email, ...stepUp } }));
}

export function removeEmail(api: Api, stepUp: StepUp) {
	return ask(() => api.DELETE('/email', { body: stepUp }));
}

/** Follows a verification link: needs no session. */
export function verifyEmail(api: Api, token: string) {
	return ask(() => api.POST('/email/verify', { body: { token } }));
}

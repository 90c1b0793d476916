/**
 * What every page of the operator console shares: whether the signed-in person holds the `admin` role (from
 * the sign-in's answer or `GET /profile`, as the store holds them; fetched when the store has none), and
 * whether their own account has two-factor authentication on (the step-up form asks for a code).
 */
import { mfaStatus } from '$lib/api/mfa';
import { api, auth } from '$lib/stores/auth';

class ConsoleState {
	totpEnabled = $state(false);
	#asked = false;

	/** Loads what is not known yet: the roles (through the auth store) and the admin's own 2FA status. */
	async prepare(user: { roles?: readonly string[] }): Promise<void> {
		if (!user.roles) await auth.reload();
		if (this.#asked) return;
		this.#asked = true;
		const answer = await mfaStatus(api);
		if (answer.ok) this.totpEnabled = answer.data.totp_enabled;
		else this.#asked = false;
	}
}

export const adminConsole = new ConsoleState();

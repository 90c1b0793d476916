/**
 * The person's part of "Sign in with Latchkey" (OpenID Connect): a pending authorization request, the
 * consent decision, an RP-initiated sign-out, and the apps the person allowed. The protocol endpoints
 * themselves (`/oauth2/authorize`, `/oauth2/token` …) are for client libraries, never called from here.
 */
import { ask } from './answer';
import type { Api } from './client';

/** The application asking and the scopes it asks for (`404 request_not_found` when unknown, expired or used). */
export function getAuthorizationRequest(api: Api, id: string) {
	return ask(() => api.GET('/oauth2/requests/{id}', { params: { path: { id } } }));
}

/**
 * What happens next for this browser: `login` (not signed in, or a new sign-in is asked), `consent`, or
 * `redirect` to the application (a code, or an error the application asked for with `prompt=none`).
 */
export function continueAuthorization(api: Api, id: string) {
	return ask(() => api.POST('/oauth2/requests/{id}/continue', { params: { path: { id } } }));
}

/** Allow (remembered for this person, app and scopes) or deny; the request is used either way. */
export function decideAuthorization(api: Api, id: string, allow: boolean) {
	return ask(() => api.POST('/oauth2/requests/{id}/decision', { params: { path: { id } }, body: { allow } }));
}

/** Which app asks to sign the person out, and whether to ask them first (no valid `id_token_hint`). */
export function getLogoutRequest(api: Api, id: string) {
	return ask(() => api.GET('/oauth2/logout-requests/{id}', { params: { path: { id } } }));
}

/** Ends the Latchkey session in this browser; answers where to go next (null: nowhere, stay here). */
export function endSession(api: Api, id: string) {
	return ask(() => api.POST('/oauth2/logout-requests/{id}', { params: { path: { id } } }));
}

/** The apps this person allowed, with what each gets. */
export async function listApps(api: Api) {
	const answer = await ask(() => api.GET('/apps'));
	return answer.ok ? { ok: true as const, data: answer.data.apps } : answer;
}

/** Takes the consent back and ends every grant (refresh token) of that app for this person at once. */
export function revokeApp(api: Api, clientId: string) {
	return ask(() => api.DELETE('/apps/{client_id}', { params: { path: { client_id: clientId } } }));
}

/** One app the person allowed: its name, when, what it gets, when it last used its access. */
export type ConnectedApp = Extract<Awaited<ReturnType<typeof listApps>>, { ok: true }>['data'][number];

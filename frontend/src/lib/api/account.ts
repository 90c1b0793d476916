/** The account page's calls: where the user is signed in, their security events, a password change. */
import { ask, type Answer } from './answer';
import type { ActivityEvent, Api, SessionInfo } from './client';

export async function listSessions(api: Api): Promise<Answer<SessionInfo[]>> {
	const answer = await ask(() => api.GET('/sessions'));
	return answer.ok ? { ok: true, data: answer.data.sessions } : answer;
}

/** Ends one of the user's other sessions at once (`404 not_found` when it had already ended). */
export function revokeSession(api: Api, id: string): Promise<Answer<unknown>> {
	return ask(() => api.DELETE('/sessions/{id}', { params: { path: { id } } }));
}

export async function listActivity(api: Api): Promise<Answer<ActivityEvent[]>> {
	const answer = await ask(() => api.GET('/activity'));
	return answer.ok ? { ok: true, data: answer.data.events } : answer;
}

/** Every other session is signed out; this one stays. A wrong current password is `403 invalid_credentials`. */
export function changePassword(
	api: Api,
	body: { current_password: string; new_password: string }
): Promise<Answer<unknown>> {
	return ask(() => api.POST('/password', { body }));
}

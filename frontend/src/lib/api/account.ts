/**
 * The account area's calls: where the user is signed in, the devices the account trusts, their security events,
 * a password change.
 */
import { ask, type Answer } from './answer';
import type { ActivityEvent, Api, SessionInfo, TrustedDevice } from './client';
import type { components } from './schema';

export type ActivityKind = components['schemas']['ActivityKind'];
export type PasswordChange = components['schemas']['PasswordChangeRequest'];

export async function listSessions(api: Api): Promise<Answer<SessionInfo[]>> {
	const answer = await ask(() => api.GET('/sessions'));
	return answer.ok ? { ok: true, data: answer.data.sessions } : answer;
}

/** Ends one of the user's other sessions at once (`404 not_found` when it had already ended). */
export function revokeSession(api: Api, id: string): Promise<Answer<unknown>> {
	return ask(() => api.DELETE('/sessions/{id}', { params: { path: { id } } }));
}

/** The devices this account trusts (at most ten, the most recently used), `current` on this one. */
export async function listDevices(api: Api): Promise<Answer<TrustedDevice[]>> {
	const answer = await ask(() => api.GET('/devices'));
	return answer.ok ? { ok: true, data: answer.data.devices } : answer;
}

/**
 * Stops trusting a device: its next sign-in counts against the username's limit like a stranger's. Its
 * sessions go on. `404 not_found` when it was no longer trusted.
 */
export function forgetDevice(api: Api, id: string): Promise<Answer<unknown>> {
	return ask(() => api.DELETE('/devices/{id}', { params: { path: { id } } }));
}

export interface BulkRevocation {
	/** Sessions ended now, or found already ended (404). */
	ended: SessionInfo[];
	/** Sessions that could not be ended, each with why. */
	failed: { session: SessionInfo; failure: NonNullable<Extract<Answer<unknown>, { ok: false }>['failure']> }[];
}

/**
 * Ends each of `sessions` (never the current one), one after another, reporting progress after each. The API
 * has no "everyone but me" call: a failure ends nothing else's chances, and is reported beside the others.
 */
export async function revokeSessions(
	api: Api,
	sessions: readonly SessionInfo[],
	onprogress?: (done: number, total: number) => void
): Promise<BulkRevocation> {
	const result: BulkRevocation = { ended: [], failed: [] };
	const others = sessions.filter((s) => !s.current);
	for (const session of others) {
		const answer = await revokeSession(api, session.id);
		if (answer.ok || answer.failure.status === 404) result.ended.push(session);
		else result.failed.push({ session, failure: answer.failure });
		onprogress?.(result.ended.length + result.failed.length, others.length);
	}
	return result;
}

export interface ActivityPage {
	events: ActivityEvent[];
	/** Pass as `before` for the next (older) page; null when there is none. */
	nextBefore: string | null;
}

export interface ActivityQuery {
	/** The `next_before` of the previous page: events older than that one. */
	before?: string | null;
	/** Only these kinds; all kinds when empty. */
	kinds?: readonly ActivityKind[];
	limit?: number;
}

/** One page of security events, newest first. An unknown `before` (pruned since) is `404 not_found`. */
export async function listActivity(api: Api, query: ActivityQuery = {}): Promise<Answer<ActivityPage>> {
	const answer = await ask(() =>
		api.GET('/activity', {
			params: {
				query: {
					limit: query.limit,
					before: query.before ?? undefined,
					kind: query.kinds?.length ? [...query.kinds] : undefined
				}
			}
		})
	);
	return answer.ok ? { ok: true, data: { events: answer.data.events, nextBefore: answer.data.next_before ?? null } } : answer;
}

/** Every other session is signed out; this one stays. A wrong current password is `403 invalid_credentials`. */
export function changePassword(api: Api, body: PasswordChange): Promise<Answer<unknown>> {
	return ask(() => api.POST('/password', { body }));
}

/**
 * The operator console's calls (`/admin/…`, tag "Admin"). The API decides who may: every call is refused
 * without the `admin` role, and every change needs a fresh step-up (`403 step_up_required`: `stepUp`, then
 * send the change again).
 */
import { ask, type Answer, type Failure } from '$lib/api/answer';
import type { Api } from '$lib/api/client';
import type { StepUp } from '$lib/api/mfa';
import type { components } from '$lib/api/schema';
import { m } from '$lib/paraglide/messages';

export type AdminUser = components['schemas']['AdminUser'];
export type AdminUserDetail = components['schemas']['AdminUserDetail'];
export type AuditEntry = components['schemas']['AuditEntry'];
export type AuditAction = components['schemas']['AuditAction'];
export type AccountStatus = components['schemas']['AccountStatus'];
export type ResetLink = components['schemas']['ResetLink'];
export type Role = components['schemas']['Role'];

export const ADMIN_ROLE = 'admin';

/** Whether a profile (`GET /profile`) holds the admin role; undefined while its roles are not known. */
export function isAdmin(user: { roles?: readonly string[] } | null | undefined): boolean | undefined {
	return user?.roles ? user.roles.includes(ADMIN_ROLE) : undefined;
}

/**
 * What the console says when the API refuses a change (disable, revoke a role, …): the refusals that keep
 * the console usable (409 `last_admin`, `cannot_disable_self`) in the catalogue's words, naming the account;
 * any other as the API said it.
 */
export function adminRefusal(failure: Failure, name: string): string {
	if (failure.status === 409 && failure.code === 'last_admin') return m.admin_refused_last_admin({ name });
	if (failure.status === 409 && failure.code === 'cannot_disable_self') return m.admin_refused_disable_self();
	return failure.message;
}

/** The API asks for a fresh step-up before this change. */
export function needsStepUp(failure: Failure): boolean {
	return failure.status === 403 && failure.code === 'step_up_required';
}

export interface UserSearch {
	name?: string;
	match?: 'prefix' | 'contains';
	status?: AccountStatus;
	after?: string;
	limit?: number;
}

export async function searchUsers(api: Api, q: UserSearch): Promise<Answer<{ users: AdminUser[]; nextAfter: string | null }>> {
	const answer = await ask(() =>
		api.GET('/admin/users', {
			params: {
				query: {
					name: q.name || undefined,
					match: q.match,
					status: q.status,
					after: q.after || undefined,
					limit: q.limit
				}
			}
		})
	);
	return answer.ok ? { ok: true, data: { users: answer.data.users, nextAfter: answer.data.next_after ?? null } } : answer;
}

export function userDetail(api: Api, name: string): Promise<Answer<AdminUserDetail>> {
	return ask(() => api.GET('/admin/users/{name}', { params: { path: { name } } }));
}

export function stepUp(api: Api, body: StepUp) {
	return ask(() => api.POST('/admin/step-up', { body }));
}

export type ChangeId = 'disable' | 'enable' | 'revoke-sessions' | 'reset-factors' | 'unlock';

export function change(api: Api, id: ChangeId, name: string, reason?: string): Promise<Answer<AdminUser>> {
	const init = { params: { path: { name } }, body: { reason: reason?.trim() || undefined } };
	switch (id) {
		case 'disable':
			return ask(() => api.POST('/admin/users/{name}/disable', init));
		case 'enable':
			return ask(() => api.POST('/admin/users/{name}/enable', init));
		case 'revoke-sessions':
			return ask(() => api.POST('/admin/users/{name}/revoke-sessions', init));
		case 'reset-factors':
			return ask(() => api.POST('/admin/users/{name}/reset-factors', init));
		case 'unlock':
			return ask(() => api.POST('/admin/users/{name}/unlock', init));
	}
}

/** How long a reset link may work, in minutes: the API takes 1 to 1440 (a day) and defaults to 60. */
export const RESET_LINK_MINUTES = [15, 60, 240, 1440] as const;

export function resetLink(api: Api, name: string, reason?: string, validMinutes?: number): Promise<Answer<ResetLink>> {
	return ask(() =>
		api.POST('/admin/users/{name}/reset-link', {
			params: { path: { name } },
			body: { reason: reason?.trim() || undefined, valid_minutes: validMinutes }
		})
	);
}

export function grantRole(api: Api, name: string, role: string): Promise<Answer<AdminUser>> {
	return ask(() => api.PUT('/admin/users/{name}/roles/{role}', { params: { path: { name, role } } }));
}

export function revokeRole(api: Api, name: string, role: string): Promise<Answer<AdminUser>> {
	return ask(() => api.DELETE('/admin/users/{name}/roles/{role}', { params: { path: { name, role } } }));
}

export async function listRoles(api: Api): Promise<Answer<Role[]>> {
	const answer = await ask(() => api.GET('/admin/roles'));
	return answer.ok ? { ok: true, data: answer.data.roles } : answer;
}

export function createRole(api: Api, name: string, description?: string): Promise<Answer<Role>> {
	return ask(() => api.POST('/admin/roles', { body: { name: name.trim(), description: description?.trim() || undefined } }));
}

/** Everyone who holds the role loses it; the API refuses the built-in `admin` (409 `role_built_in`). */
export function deleteRole(api: Api, role: string): Promise<Answer<{ holders: number }>> {
	return ask(() => api.DELETE('/admin/roles/{role}', { params: { path: { role } } }));
}

export interface AuditQuery {
	actor?: string;
	target?: string;
	action?: AuditAction;
	/** An instant (ISO 8601). */
	since?: string;
	before?: string;
	limit?: number;
}

function auditParams(q: AuditQuery) {
	return {
		actor: q.actor?.trim() || undefined,
		target: q.target?.trim() || undefined,
		action: q.action || undefined,
		since: q.since || undefined,
		before: q.before || undefined,
		limit: q.limit
	};
}

export async function auditLog(api: Api, q: AuditQuery): Promise<Answer<{ entries: AuditEntry[]; nextBefore: string | null }>> {
	const answer = await ask(() => api.GET('/admin/audit', { params: { query: auditParams(q) } }));
	return answer.ok ? { ok: true, data: { entries: answer.data.entries, nextBefore: answer.data.next_before ?? null } } : answer;
}

/** The audit log as JSON lines (newest first), with the same filters, for a download. */
export function auditExport(api: Api, q: AuditQuery): Promise<Answer<string>> {
	return ask(() =>
		api.GET('/admin/audit.jsonl', { params: { query: { ...auditParams(q), limit: 10000 } }, parseAs: 'text' })
	) as Promise<Answer<string>>;
}

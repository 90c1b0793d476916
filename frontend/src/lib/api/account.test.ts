import { beforeEach, describe, expect, it } from 'vitest';
import { createAuthStore } from '$lib/stores/auth';
import { BASE_URL, createFakeApi, CURRENT_SESSION, type FakeApi } from '$lib/test/fake-api';
import { changePassword, listActivity, listSessions, revokeSession, revokeSessions } from './account';
import { createApi, type Api, type SessionInfo } from './client';

let server: FakeApi;
let api: Api;
const laptop: SessionInfo = {
	...CURRENT_SESSION,
	id: '20000000-0000-4000-8000-000000000000',
	device: 'Chrome 131 on Windows',
	ip: undefined,
	current: false
};

beforeEach(async () => {
	server = createFakeApi();
	api = createApi({ baseUrl: BASE_URL, fetch: server.fetch, locks: null, clock: null });
	await createAuthStore(api).register({ username: 'alice', password: 'correct horse battery' });
	server.otherSessions = [laptop];
	server.calls.length = 0;
});

describe('account calls', () => {
	it('lists the sessions, this one marked current', async () => {
		expect(await listSessions(api)).toEqual({ ok: true, data: [CURRENT_SESSION, laptop] });
	});

	it('revokes another session; a second time is a 404', async () => {
		expect((await revokeSession(api, laptop.id)).ok).toBe(true);
		expect(server.otherSessions).toEqual([]);
		expect(server.calls).toEqual([`DELETE /sessions/${laptop.id}`]);

		const again = await revokeSession(api, laptop.id);
		expect(again).toEqual({ ok: false, failure: expect.objectContaining({ status: 404, code: 'not_found' }) });
	});

	it('changes the password: a wrong current one is a 403, a short new one names new_password', async () => {
		const wrong = await changePassword(api, { current_password: 'nope', new_password: 'a new long password' });
		expect(wrong).toEqual({ ok: false, failure: expect.objectContaining({ status: 403, code: 'invalid_credentials' }) });

		const short = await changePassword(api, { current_password: 'correct horse battery', new_password: 'short' });
		expect(short.ok || short.failure.fields).toEqual([
			{ field: 'new_password', message: 'Password must be 12 to 128 characters long.' }
		]);

		const done = await changePassword(api, {
			current_password: 'correct horse battery',
			new_password: 'a new long password'
		});
		expect(done.ok).toBe(true);
		expect(server.otherSessions).toEqual([]);
		// 403s and 400s are answers about the request, not the session: nothing was refreshed.
		expect(server.calls).not.toContain('POST /refresh');
	});

	it('lists the activity a page at a time, through the cursor, filtered by kind', async () => {
		server.events = Array.from({ length: 5 }, (_, i) => ({
			id: String(5 - i),
			kind: i % 2 ? ('sign_in_failed' as const) : ('signed_in' as const),
			at: `2026-11-29T1${5 - i}:00:00Z`
		}));
		const first = await listActivity(api, { limit: 2 });
		expect(first).toEqual({ ok: true, data: { events: server.events.slice(0, 2), nextBefore: '4' } });
		const last = await listActivity(api, { limit: 10, before: '4' });
		expect(last).toEqual({ ok: true, data: { events: server.events.slice(2), nextBefore: null } });

		const failed = await listActivity(api, { kinds: ['sign_in_failed'] });
		expect(failed.ok && failed.data.events.map((e) => e.id)).toEqual(['4', '2']);
		expect(server.calls.at(-1)).toBe('GET /activity');

		const gone = await listActivity(api, { before: 'pruned' });
		expect(gone).toEqual({ ok: false, failure: expect.objectContaining({ status: 404, code: 'not_found' }) });
	});

	it('signs out every other session, one by one, and reports each that failed', async () => {
		const phone = { ...laptop, id: '30000000-0000-4000-8000-000000000000', device: 'Safari on iPhone' };
		server.otherSessions = [laptop, phone];
		const progress: string[] = [];

		const first = await revokeSessions(api, [CURRENT_SESSION, laptop, phone], (done, total) =>
			progress.push(`${done}/${total}`)
		);

		expect(first).toEqual({ ended: [laptop, phone], failed: [] });
		expect(progress).toEqual(['1/2', '2/2']);
		expect(server.calls).toEqual([`DELETE /sessions/${laptop.id}`, `DELETE /sessions/${phone.id}`]);

		server.otherSessions = [laptop];
		server.failing[`DELETE /sessions/${phone.id}`] = 503;
		const partial = await revokeSessions(api, [laptop, phone]);
		expect(partial.ended).toEqual([laptop]);
		expect(partial.failed).toEqual([{ session: phone, failure: expect.objectContaining({ status: 503 }) }]);
	});

	it('reports an unreachable server as a failure, not an exception', async () => {
		server.offline = true;
		const answer = await listSessions(api);
		expect(answer.ok).toBe(false);
	});
});

import { beforeEach, describe, expect, it } from 'vitest';
import { createAuthStore } from '$lib/stores/auth';
import { BASE_URL, createFakeApi, CURRENT_SESSION, type FakeApi } from '$lib/test/fake-api';
import { changePassword, listActivity, listSessions, revokeSession } from './account';
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

	it('lists the activity', async () => {
		server.events = [{ id: '1', kind: 'signed_in', at: '2026-11-29T11:00:00Z', session_id: CURRENT_SESSION.id }];
		expect(await listActivity(api)).toEqual({ ok: true, data: server.events });
	});

	it('reports an unreachable server as a failure, not an exception', async () => {
		server.offline = true;
		const answer = await listSessions(api);
		expect(answer.ok).toBe(false);
	});
});

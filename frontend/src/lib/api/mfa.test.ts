import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthStore } from '$lib/stores/auth';
import { BASE_URL, createFakeApi, VALID_CODE, type FakeApi } from '$lib/test/fake-api';
import { createApi, type Api } from './client';
import {
	addPasskey,
	confirmTotp,
	disableTotp,
	listPasskeys,
	mfaStatus,
	removePasskey,
	replaceRecoveryCodes,
	startTotp
} from './mfa';

const password = 'correct horse battery';
let server: FakeApi;
let api: Api;

beforeEach(async () => {
	server = createFakeApi();
	api = createApi({ baseUrl: BASE_URL, fetch: server.fetch, locks: null, clock: null });
	await createAuthStore(api).register({ username: 'alice', password });
	server.calls.length = 0;
	server.bodies.length = 0;
});

async function turnOn(): Promise<string[]> {
	await startTotp(api, password);
	const confirmed = await confirmTotp(api, VALID_CODE);
	if (!confirmed.ok) throw new Error(confirmed.failure.message);
	return confirmed.data.recovery_codes;
}

describe('two-factor authentication calls', () => {
	it('enrols: the password starts it, a code from the app confirms it, ten recovery codes come back', async () => {
		expect(await mfaStatus(api)).toEqual({
			ok: true,
			data: { totp_enabled: false, recovery_codes_remaining: 0, passkeys: 0 }
		});
		const wrong = await startTotp(api, 'not it');
		expect(wrong).toEqual({ ok: false, failure: expect.objectContaining({ status: 403, code: 'invalid_credentials' }) });

		const started = await startTotp(api, password);
		expect(started.ok && started.data.otpauth_uri).toMatch(/^otpauth:\/\/totp\//);
		const badCode = await confirmTotp(api, '000000');
		expect(badCode).toEqual({ ok: false, failure: expect.objectContaining({ status: 400, code: 'invalid_mfa_code' }) });

		const codes = await turnOn();
		expect(codes).toHaveLength(10);
		expect(await mfaStatus(api)).toMatchObject({ ok: true, data: { totp_enabled: true, recovery_codes_remaining: 10 } });
		// A step-up answer is about the request, never the session.
		expect(server.calls).not.toContain('POST /refresh');
	});

	it('asks for a second factor to replace the codes or turn it off, and takes a recovery code once', async () => {
		const [first] = await turnOn();

		const noCode = await replaceRecoveryCodes(api, { password });
		expect(noCode.ok || noCode.failure.code).toBe('second_factor_required');
		const badCode = await disableTotp(api, { password, code: '000000' });
		expect(badCode.ok || badCode.failure).toMatchObject({ status: 403, code: 'invalid_mfa_code' });

		const replaced = await replaceRecoveryCodes(api, { password, code: VALID_CODE });
		expect(replaced.ok && replaced.data.recovery_codes).toHaveLength(10);
		const old = await disableTotp(api, { password, recovery_code: first });
		expect(old.ok).toBe(false);

		const fresh = replaced.ok ? replaced.data.recovery_codes[0] : '';
		expect((await disableTotp(api, { password, recovery_code: fresh })).ok).toBe(true);
		expect(await mfaStatus(api)).toMatchObject({ ok: true, data: { totp_enabled: false } });
	});
});

describe('passkey calls', () => {
	it('adds one: the step-up starts the ceremony, the browser makes the credential, the server stores it', async () => {
		const create = vi.fn(async () => ({ ok: true as const, credential: { id: 'BAU', type: 'public-key' } }));
		const added = await addPasskey(api, { password, name: 'Laptop' }, create);

		expect(added).toEqual({ ok: true, data: expect.objectContaining({ name: 'Laptop', last_used_at: null }) });
		expect(create).toHaveBeenCalledWith({ publicKey: { challenge: 'AQID' } });
		expect(server.calls).toEqual(['POST /passkeys/register/start', 'POST /passkeys/register/finish']);
		expect(server.bodies).toEqual([
			{ password },
			{ ceremony: 'c-1', name: 'Laptop', credential: { id: 'BAU', type: 'public-key' } }
		]);
		expect(await listPasskeys(api)).toEqual({ ok: true, data: [added.ok && added.data] });
	});

	it('stops at a wrong password, or when the browser made no passkey', async () => {
		const create = vi.fn(async () => ({ ok: true as const, credential: {} }));
		const wrong = await addPasskey(api, { password: 'nope', name: 'Laptop' }, create);
		expect(wrong.ok || wrong.failure.code).toBe('invalid_credentials');
		expect(create).not.toHaveBeenCalled();

		const cancelled = await addPasskey(api, { password, name: 'Laptop' }, async () => ({
			ok: false,
			failure: { message: 'No passkey was added.', fields: [] }
		}));
		expect(cancelled).toEqual({ ok: false, failure: { message: 'No passkey was added.', fields: [] } });
		expect(server.calls.at(-1)).toBe('POST /passkeys/register/start');
	});

	it('removes one with the password, and a code once two-factor authentication is on', async () => {
		const create = async () => ({ ok: true as const, credential: { id: 'BAU' } });
		const added = await addPasskey(api, { password, name: 'Laptop' }, create);
		const id = added.ok ? added.data.id : '';
		await turnOn();

		const noCode = await removePasskey(api, id, { password });
		expect(noCode.ok || noCode.failure.code).toBe('second_factor_required');
		expect((await removePasskey(api, id, { password, code: VALID_CODE })).ok).toBe(true);
		expect(await listPasskeys(api)).toEqual({ ok: true, data: [] });
	});
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
	ceremonyFailure,
	createPasskey,
	creationOptionsFromJSON,
	credentialToJSON,
	fromBase64Url,
	publicKeyOf,
	requestOptionsFromJSON,
	toBase64Url,
	usePasskey
} from './index';

const bytes = (...values: number[]) => new Uint8Array(values).buffer;
const array = (buffer: unknown) => [...new Uint8Array(buffer as ArrayBuffer)];

// webauthn-rs's JSON, trimmed: binary fields in base64url, some members null.
const creation = {
	publicKey: {
		rp: { id: 'localhost', name: 'Latchkey' },
		user: { id: 'AAEC', name: 'alice', displayName: 'alice' },
		challenge: '-_8',
		pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
		timeout: 60000,
		excludeCredentials: [{ type: 'public-key', id: 'BAU' }],
		authenticatorSelection: { residentKey: 'required', userVerification: 'required', authenticatorAttachment: null },
		attestation: 'none',
		extensions: { credProps: true }
	}
};
const request = {
	publicKey: { challenge: 'AQID', allowCredentials: [{ type: 'public-key', id: 'BAU' }], userVerification: 'required' },
	mediation: null
};

afterEach(() => vi.unstubAllGlobals());

describe('base64url', () => {
	it('round-trips bytes, without padding, with - and _', () => {
		expect(toBase64Url(bytes(0xfb, 0xff))).toBe('-_8');
		expect(array(fromBase64Url('-_8'))).toEqual([0xfb, 0xff]);
		expect(toBase64Url(new Uint8Array([1, 2, 3, 4]).subarray(1, 3))).toBe('AgM');
	});

	it('also reads padded standard base64, which webauthn-rs may send', () => {
		expect(array(fromBase64Url('+/8='))).toEqual([0xfb, 0xff]);
	});
});

describe('options from the server', () => {
	it('unwraps publicKey and drops nulls, which WebIDL would read as the string "null"', () => {
		const publicKey = publicKeyOf(creation);
		expect(publicKey.authenticatorSelection).toEqual({ residentKey: 'required', userVerification: 'required' });
		expect(publicKeyOf(request)).not.toHaveProperty('mediation');
	});

	it('turns creation options into what navigator.credentials.create takes (fallback)', () => {
		const options = creationOptionsFromJSON(publicKeyOf(creation));
		expect(array(options.challenge)).toEqual([0xfb, 0xff]);
		expect(array(options.user.id)).toEqual([0, 1, 2]);
		expect(options.user.name).toBe('alice');
		expect(array(options.excludeCredentials![0].id)).toEqual([4, 5]);
		expect(options.pubKeyCredParams).toEqual([{ type: 'public-key', alg: -7 }]);
	});

	it('turns request options into what navigator.credentials.get takes (fallback)', () => {
		const options = requestOptionsFromJSON(publicKeyOf(request));
		expect(array(options.challenge)).toEqual([1, 2, 3]);
		expect(array(options.allowCredentials![0].id)).toEqual([4, 5]);
		expect(options.userVerification).toBe('required');
	});
});

/** A credential as a browser without toJSON() returns it. */
function fakeCredential(response: object) {
	return {
		id: 'BAU',
		rawId: bytes(4, 5),
		type: 'public-key',
		authenticatorAttachment: 'platform',
		getClientExtensionResults: () => ({ credProps: { rk: true } }),
		response: { clientDataJSON: bytes(123, 125), ...response }
	} as unknown as PublicKeyCredential;
}

describe('credentials to JSON (fallback)', () => {
	it('encodes a new passkey like RegistrationResponseJSON', () => {
		const json = credentialToJSON(
			fakeCredential({ attestationObject: bytes(1), getTransports: () => ['internal'] })
		);
		expect(json).toEqual({
			id: 'BAU',
			rawId: 'BAU',
			type: 'public-key',
			authenticatorAttachment: 'platform',
			clientExtensionResults: { credProps: { rk: true } },
			response: { clientDataJSON: 'e30', attestationObject: 'AQ', transports: ['internal'] }
		});
	});

	it('encodes a sign-in like AuthenticationResponseJSON', () => {
		const json = credentialToJSON(
			fakeCredential({ authenticatorData: bytes(2), signature: bytes(3), userHandle: bytes(0, 1, 2) })
		);
		expect(json.response).toEqual({ clientDataJSON: 'e30', authenticatorData: 'Ag', signature: 'Aw', userHandle: 'AAEC' });
	});
});

describe('ceremonies', () => {
	function browser({ parse }: { parse: boolean }) {
		const PublicKeyCredential = Object.assign(function PublicKeyCredential() {}, {
			...(parse && {
				parseCreationOptionsFromJSON: vi.fn((json: object) => ({ parsed: json })),
				parseRequestOptionsFromJSON: vi.fn((json: object) => ({ parsed: json }))
			})
		});
		const credential = { ...fakeCredential({ attestationObject: bytes(1) }), toJSON: () => ({ id: 'from-toJSON' }) };
		const credentials = { create: vi.fn(async () => credential), get: vi.fn(async () => credential) };
		vi.stubGlobal('PublicKeyCredential', PublicKeyCredential);
		vi.stubGlobal('navigator', { credentials });
		return { PublicKeyCredential, credentials };
	}

	it('lets the browser parse the options and serialise the credential when it can', async () => {
		const { PublicKeyCredential, credentials } = browser({ parse: true });
		expect(await createPasskey(creation)).toEqual({ ok: true, credential: { id: 'from-toJSON' } });
		expect(PublicKeyCredential.parseCreationOptionsFromJSON).toHaveBeenCalledWith(publicKeyOf(creation));
		expect(credentials.create).toHaveBeenCalledWith({ publicKey: { parsed: publicKeyOf(creation) } });

		expect(await usePasskey(request)).toEqual({ ok: true, credential: { id: 'from-toJSON' } });
		expect(credentials.get).toHaveBeenCalledWith({ publicKey: { parsed: publicKeyOf(request) } });
	});

	it('converts by itself in browsers without the JSON helpers', async () => {
		const { credentials } = browser({ parse: false });
		await createPasskey(creation);
		const [{ publicKey }] = credentials.create.mock.calls[0] as unknown as [{ publicKey: PublicKeyCredentialCreationOptions }];
		expect(array(publicKey.challenge)).toEqual([0xfb, 0xff]);
	});

	it('turns a cancelled or refused ceremony into a message, never an exception', async () => {
		const { credentials } = browser({ parse: true });
		credentials.create.mockRejectedValueOnce(new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError'));
		expect(await createPasskey(creation)).toEqual({
			ok: false,
			failure: { message: 'No passkey was added: the request was cancelled or timed out.', fields: [] }
		});
		credentials.get.mockResolvedValueOnce(null as never);
		const none = await usePasskey(request);
		expect(none.ok || none.failure.message).toMatch(/^No passkey was used/);
	});

	it('asks quietly (conditional mediation) with the signal, and an aborted or cancelled request is no failure to show', async () => {
		const { credentials } = browser({ parse: true });
		const controller = new AbortController();
		credentials.get.mockRejectedValueOnce(new DOMException('aborted', 'AbortError'));
		const aborted = await usePasskey(request, { mediation: 'conditional', signal: controller.signal });
		expect(credentials.get).toHaveBeenCalledWith({
			publicKey: { parsed: publicKeyOf(request) },
			mediation: 'conditional',
			signal: controller.signal
		});
		expect(aborted).toMatchObject({ ok: false, cancelled: true });

		credentials.get.mockRejectedValueOnce(new DOMException('', 'NotAllowedError'));
		expect(await usePasskey(request, { mediation: 'conditional' })).toMatchObject({ ok: false, cancelled: true });

		// Aborted before it began: the browser is not asked at all.
		controller.abort();
		credentials.get.mockClear();
		expect(await usePasskey(request, { mediation: 'conditional', signal: controller.signal })).toMatchObject({ cancelled: true });
		expect(credentials.get).not.toHaveBeenCalled();

		// The button's request (no mediation) still says why it failed.
		credentials.get.mockRejectedValueOnce(new DOMException('', 'NotAllowedError'));
		const refused = await usePasskey(request);
		expect(refused).not.toHaveProperty('cancelled');
		expect(refused.ok || refused.failure.message).toMatch(/^No passkey was used/);
	});

	it('says what each WebAuthn error means', () => {
		const message = (name: string, ceremony: 'create' | 'get' = 'create') =>
			ceremonyFailure(new DOMException('', name), ceremony).message;
		expect(message('InvalidStateError')).toBe('This device already holds a passkey for your account.');
		expect(message('SecurityError')).toMatch(/not set up for this address/);
		expect(message('NotSupportedError')).toMatch(/no authenticator/);
		expect(message('TypeError')).toMatch(/could not complete/);
	});
});

/**
 * Passkey ceremonies in the browser. The server sends webauthn-rs's options (`{ publicKey: {...} }`, binary
 * fields as base64url); this turns them into `navigator.credentials` calls and the credential back into
 * JSON. Browsers with `PublicKeyCredential.parse*OptionsFromJSON` and `credential.toJSON()` do the
 * conversion themselves; the small converter below covers the rest. Loaded with a dynamic `import()`.
 */
import { m } from '$lib/paraglide/messages';
import type { Failure } from '$lib/api/answer';

/** The credential as JSON: a RegistrationResponseJSON or an AuthenticationResponseJSON (WebAuthn L3). */
export type CredentialJSON = Record<string, unknown>;

/**
 * `cancelled`: the request was aborted (`signal`) or, for a conditional request, ended without the person
 * choosing anything; nothing worth telling them.
 */
export type Ceremony = { ok: true; credential: CredentialJSON } | { ok: false; failure: Failure; cancelled?: boolean };

/** How a sign-in asks: a dialog (the default), or quietly through the username field's autofill. */
export interface UseOptions {
	mediation?: 'conditional';
	/** Ends the request (the person typed a password or chose the button instead). */
	signal?: AbortSignal;
}

type Json = Record<string, unknown>;

// --- base64url (RFC 4648 §5, no padding) ----------------------------------------------------------------

export function toBase64Url(bytes: ArrayBuffer | ArrayBufferView): string {
	const view =
		bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	let binary = '';
	for (const byte of view) binary += String.fromCharCode(byte);
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Takes base64url or plain base64, padded or not (webauthn-rs reads both, and may send either). */
export function fromBase64Url(text: string): ArrayBuffer {
	const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
	const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
	const bytes = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
	return bytes.buffer;
}

// --- options: server JSON → what navigator.credentials takes ---------------------------------------------

/**
 * The `publicKey` member of webauthn-rs's `{ publicKey, mediation? }`, without `null` members: WebIDL
 * would read a `null` enum member as the string "null" and reject the whole call.
 */
export function publicKeyOf(options: unknown): Json {
	const outer = (options ?? {}) as Json;
	const inner = (outer.publicKey ?? outer) as Json;
	return withoutNulls(inner) as Json;
}

function withoutNulls(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(withoutNulls);
	if (value && typeof value === 'object') {
		return Object.fromEntries(
			Object.entries(value as Json)
				.filter(([, v]) => v !== null && v !== undefined)
				.map(([k, v]) => [k, withoutNulls(v)])
		);
	}
	return value;
}

const descriptors = (list: unknown) =>
	Array.isArray(list) ? list.map((d: Json) => ({ ...d, id: fromBase64Url(d.id as string) })) : undefined;

/** The fallback for browsers without `PublicKeyCredential.parseCreationOptionsFromJSON`. */
export function creationOptionsFromJSON(json: Json): PublicKeyCredentialCreationOptions {
	const user = json.user as Json;
	return {
		...json,
		challenge: fromBase64Url(json.challenge as string),
		user: { ...user, id: fromBase64Url(user.id as string) },
		excludeCredentials: descriptors(json.excludeCredentials)
	} as unknown as PublicKeyCredentialCreationOptions;
}

/** The fallback for browsers without `PublicKeyCredential.parseRequestOptionsFromJSON`. */
export function requestOptionsFromJSON(json: Json): PublicKeyCredentialRequestOptions {
	return {
		...json,
		challenge: fromBase64Url(json.challenge as string),
		allowCredentials: descriptors(json.allowCredentials)
	} as unknown as PublicKeyCredentialRequestOptions;
}

// --- the credential → JSON ------------------------------------------------------------------------------

/** The fallback for browsers without `credential.toJSON()`: the same members, binary ones in base64url. */
export function credentialToJSON(credential: PublicKeyCredential): CredentialJSON {
	const response = credential.response;
	const json: Json = {
		id: credential.id,
		rawId: toBase64Url(credential.rawId),
		type: credential.type,
		authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
		clientExtensionResults: credential.getClientExtensionResults?.() ?? {}
	};
	const body: Json = { clientDataJSON: toBase64Url(response.clientDataJSON) };
	if ('attestationObject' in response) {
		const attestation = response as AuthenticatorAttestationResponse;
		body.attestationObject = toBase64Url(attestation.attestationObject);
		body.transports = attestation.getTransports?.() ?? [];
	} else {
		const assertion = response as AuthenticatorAssertionResponse;
		body.authenticatorData = toBase64Url(assertion.authenticatorData);
		body.signature = toBase64Url(assertion.signature);
		if (assertion.userHandle) body.userHandle = toBase64Url(assertion.userHandle);
	}
	json.response = body;
	return json;
}

function asJSON(credential: PublicKeyCredential): CredentialJSON {
	return typeof credential.toJSON === 'function' ? (credential.toJSON() as CredentialJSON) : credentialToJSON(credential);
}

// --- errors ------------------------------------------------------------------------------------------------

/** What went wrong in the browser's part of a ceremony, as a message for the form (WebAuthn L3 §5.1.3, §5.1.4). */
export function ceremonyFailure(error: unknown, ceremony: 'create' | 'get'): Failure {
	const name = error instanceof Error || error instanceof DOMException ? error.name : '';
	const message = (() => {
		switch (name) {
			case 'NotAllowedError':
				return ceremony === 'create' ? m.passkey_error_not_added() : m.passkey_error_not_used();
			case 'InvalidStateError':
				return m.passkey_error_exists();
			case 'AbortError':
				return m.passkey_error_aborted();
			case 'NotSupportedError':
				return m.passkey_error_unsupported();
			case 'SecurityError':
				return m.passkey_error_security();
			default:
				return m.passkey_error_other();
		}
	})();
	return { message, fields: [] };
}

// --- ceremonies -------------------------------------------------------------------------------------------

type Static = typeof PublicKeyCredential & {
	parseCreationOptionsFromJSON?: (json: PublicKeyCredentialCreationOptionsJSON) => PublicKeyCredentialCreationOptions;
	parseRequestOptionsFromJSON?: (json: PublicKeyCredentialRequestOptionsJSON) => PublicKeyCredentialRequestOptions;
};

/** Creates a passkey with the options `POST /passkeys/register/start` returned. */
export async function createPasskey(options: unknown): Promise<Ceremony> {
	try {
		const json = publicKeyOf(options);
		const parse = (PublicKeyCredential as Static).parseCreationOptionsFromJSON;
		const publicKey = parse
			? parse(json as unknown as PublicKeyCredentialCreationOptionsJSON)
			: creationOptionsFromJSON(json);
		const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
		if (!credential) return { ok: false, failure: ceremonyFailure(new DOMException('', 'NotAllowedError'), 'create') };
		return { ok: true, credential: asJSON(credential) };
	} catch (error) {
		return { ok: false, failure: ceremonyFailure(error, 'create') };
	}
}

/**
 * Signs in with a passkey, with the options `POST /login/passkey/start` returned (no `allowCredentials`: the
 * authenticator offers whichever of its passkeys are for this site). With `mediation: 'conditional'` the
 * browser offers them in the username field's autofill and waits, until one is chosen or `signal` aborts.
 */
export async function usePasskey(options: unknown, how: UseOptions = {}): Promise<Ceremony> {
	const { mediation, signal } = how;
	const cancelled = (): Ceremony => ({ ok: false, failure: ceremonyFailure(new DOMException('', 'AbortError'), 'get'), cancelled: true });
	if (signal?.aborted) return cancelled();
	try {
		const json = publicKeyOf(options);
		const parse = (PublicKeyCredential as Static).parseRequestOptionsFromJSON;
		const publicKey = parse
			? parse(json as unknown as PublicKeyCredentialRequestOptionsJSON)
			: requestOptionsFromJSON(json);
		const credential = (await navigator.credentials.get({
			publicKey,
			...(mediation ? { mediation } : {}),
			...(signal ? { signal } : {})
		})) as PublicKeyCredential | null;
		if (!credential) {
			if (mediation) return cancelled();
			return { ok: false, failure: ceremonyFailure(new DOMException('', 'NotAllowedError'), 'get') };
		}
		return { ok: true, credential: asJSON(credential) };
	} catch (error) {
		const name = error instanceof Error || error instanceof DOMException ? error.name : '';
		// An aborted request, or a conditional one that ended without a choice, is no failure to show.
		if (signal?.aborted || (mediation && (name === 'AbortError' || name === 'NotAllowedError'))) return cancelled();
		return { ok: false, failure: ceremonyFailure(error, 'get') };
	}
}

/** Whether this browser can make and use passkeys at all (a secure context with WebAuthn). Tiny, so eager. */
export function passkeysSupported(): boolean {
	return (
		typeof window !== 'undefined' &&
		window.isSecureContext &&
		typeof window.PublicKeyCredential === 'function' &&
		typeof navigator.credentials?.create === 'function'
	);
}

/**
 * Whether the browser offers passkeys in a field's autofill (`autocomplete="… webauthn"`, conditional
 * mediation, WebAuthn L3 §5.1.4). Never throws; false where it cannot tell.
 */
export async function conditionalMediationAvailable(): Promise<boolean> {
	if (!passkeysSupported()) return false;
	const check = (window.PublicKeyCredential as { isConditionalMediationAvailable?: () => Promise<boolean> })
		.isConditionalMediationAvailable;
	if (typeof check !== 'function') return false;
	try {
		return (await check.call(window.PublicKeyCredential)) === true;
	} catch {
		return false;
	}
}

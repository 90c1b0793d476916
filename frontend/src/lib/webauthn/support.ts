/** Whether this browser can make and use passkeys at all (a secure context with WebAuthn). Tiny, so eager. */
export function passkeysSupported(): boolean {
	return (
		typeof window !== 'undefined' &&
		window.isSecureContext &&
		typeof window.PublicKeyCredential === 'function' &&
		typeof navigator.credentials?.create === 'function'
	);
}

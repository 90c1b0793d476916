/**
 * Where to go after signing in. A `redirectTo` comes from a link anyone can craft, so it is read the way the
 * browser will read it (tabs and newlines dropped, backslashes as slashes, `..` resolved) and kept only when
 * that is a page of this site, other than the sign-in forms themselves (they would have nowhere to go).
 */

/** Pages a signed-in person is sent away from: never a destination after signing in. */
const SIGN_IN_FORMS = ['/login', '/register'];

function currentOrigin(): string {
	return globalThis.location?.origin ?? 'http://localhost';
}

export function safeRedirect(
	target: string | null | undefined,
	fallback = '/',
	origin: string = currentOrigin()
): string {
	// Only an absolute path: no scheme, no leading space or control character for a parser to drop.
	if (!target || !target.startsWith('/')) return fallback;
	let url: URL;
	try {
		url = new URL(target, origin);
	} catch {
		return fallback;
	}
	if (url.origin !== new URL(origin).origin) return fallback;
	const path = url.pathname.replace(/\/+$/, '').toLowerCase() || '/';
	if (SIGN_IN_FORMS.includes(path)) return fallback;
	return url.pathname + url.search + url.hash;
}

/** `/login?redirectTo=/account`: the path is kept readable, everything else escaped. */
export function loginUrlFor(path: string): string {
	return `/login?redirectTo=${encodeURIComponent(path).replaceAll('%2F', '/')}`;
}

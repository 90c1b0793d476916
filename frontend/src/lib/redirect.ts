/** Where to go after signing in: only same-site paths, so a crafted link can't send people elsewhere. */
export function safeRedirect(target: string | null | undefined, fallback = '/'): string {
	if (!target || !target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) {
		return fallback;
	}
	return target;
}

/** `/login?redirectTo=/profile`: the path is kept readable, everything else escaped. */
export function loginUrlFor(path: string): string {
	return `/login?redirectTo=${encodeURIComponent(path).replaceAll('%2F', '/')}`;
}

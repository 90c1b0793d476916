/**
 * `Retry-After` (RFC 9110 §10.2.3) as whole seconds from now: the API sends it with `429 too_many_attempts`
 * and `503 service_unavailable`, and exposes it to the page through CORS. Every page load carries this (the
 * API's answers are read with it); the wait in words is `format-wait.ts`, loaded only by the forms that count down.
 */

/** Seconds to wait, or undefined when the header is absent, unreadable (not exposed) or malformed. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
	if (!value) return undefined;
	const trimmed = value.trim();
	if (/^\d+$/.test(trimmed)) return Number(trimmed);
	// Otherwise an HTTP date ("Sun, 29 Nov 2026 12:01:30 GMT"), which always names a day or month.
	const at = /[a-z]/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
	if (Number.isNaN(at)) return undefined;
	return Math.max(0, Math.ceil((at - now) / 1000));
}

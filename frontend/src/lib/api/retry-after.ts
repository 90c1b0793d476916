/**
 * `Retry-After` (RFC 9110 §10.2.3) as whole seconds from now: the API sends it with `429 too_many_attempts`
 * and `503 service_unavailable`, and exposes it to the page through CORS.
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

/** "45 seconds", "3 minutes 5 seconds", "2 hours 1 minute": a wait as a person would say it. */
export function formatWait(seconds: number): string {
	const s = Math.max(0, Math.ceil(seconds));
	const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
	if (s < 60) return unit(s, 'second');
	if (s < 3600) {
		const rest = s % 60;
		return rest ? `${unit(Math.floor(s / 60), 'minute')} ${unit(rest, 'second')}` : unit(s / 60, 'minute');
	}
	const minutes = Math.floor((s % 3600) / 60);
	const hours = unit(Math.floor(s / 3600), 'hour');
	return minutes ? `${hours} ${unit(minutes, 'minute')}` : hours;
}

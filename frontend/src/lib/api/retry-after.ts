/**
 * `Retry-After` (RFC 9110 §10.2.3) as whole seconds from now: the API sends it with `429 too_many_attempts`
 * and `503 service_unavailable`, and exposes it to the page through CORS.
 */
import { m } from '$lib/paraglide/messages';

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
	if (s < 60) return m.wait_seconds({ count: s });
	if (s < 3600) {
		const rest = s % 60;
		const minutes = m.wait_minutes({ count: Math.floor(s / 60) });
		return rest ? `${minutes} ${m.wait_seconds({ count: rest })}` : minutes;
	}
	const minutes = Math.floor((s % 3600) / 60);
	const hours = m.wait_hours({ count: Math.floor(s / 3600) });
	return minutes ? `${hours} ${m.wait_minutes({ count: minutes })}` : hours;
}

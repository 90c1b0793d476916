/**
 * A wait (from `Retry-After`, see retry-after.ts) in words, for the forms' countdown. A module of its own so
 * that its messages ship with the forms, not with every page load.
 */
import { m } from '$lib/paraglide/messages';

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

/** Times as people read them on the account page: "5 minutes ago", and the full date on hover. */

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

const steps: [limit: number, unit: Intl.RelativeTimeFormatUnit, seconds: number][] = [
	[60 * 60, 'minute', 60],
	[24 * 60 * 60, 'hour', 60 * 60],
	[7 * 24 * 60 * 60, 'day', 24 * 60 * 60],
	[30 * 24 * 60 * 60, 'week', 7 * 24 * 60 * 60],
	[365 * 24 * 60 * 60, 'month', 30 * 24 * 60 * 60],
	[Number.POSITIVE_INFINITY, 'year', 365 * 24 * 60 * 60]
];

/** "just now", "5 minutes ago", "yesterday", "3 weeks ago", "in 2 days". */
export function relativeTime(iso: string, now: number): string {
	const seconds = (Date.parse(iso) - now) / 1000;
	// Under a minute either way (clocks never quite agree): no number worth reading.
	if (Math.abs(seconds) < 60) return 'just now';
	for (const [limit, unit, size] of steps) {
		if (Math.abs(seconds) < limit) return relative.format(Math.round(seconds / size), unit);
	}
	return relative.format(Math.round(seconds / (365 * 24 * 60 * 60)), 'year');
}

/** The full date and time in the reader's own locale and time zone. */
export function fullDate(iso: string): string {
	return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/**
 * Times as people read them, in the interface language and the reader's time zone: "5 minutes ago" beside
 * the date and time itself, both as text (a tooltip reaches neither keyboards, touch screens nor screen readers).
 */
import { getLocale } from '$lib/paraglide/runtime';
import { m } from '$lib/paraglide/messages';

const steps: [limit: number, unit: Intl.RelativeTimeFormatUnit, seconds: number][] = [
	[60 * 60, 'minute', 60],
	[24 * 60 * 60, 'hour', 60 * 60],
	[7 * 24 * 60 * 60, 'day', 24 * 60 * 60],
	[30 * 24 * 60 * 60, 'week', 7 * 24 * 60 * 60],
	[365 * 24 * 60 * 60, 'month', 30 * 24 * 60 * 60],
	[Number.POSITIVE_INFINITY, 'year', 365 * 24 * 60 * 60]
];

/** "just now", "5 minutes ago", "yesterday", "3 weeks ago", "in 2 days" (or "gerade eben", "vor 5 Minuten" …). */
export function relativeTime(iso: string, now: number, locale: string = getLocale()): string {
	const seconds = (Date.parse(iso) - now) / 1000;
	// Under a minute either way (clocks never quite agree): no number worth reading.
	if (Math.abs(seconds) < 60) return m.time_just_now({}, { locale: locale as 'en' });
	const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
	for (const [limit, unit, size] of steps) {
		if (Math.abs(seconds) < limit) return format.format(Math.round(seconds / size), unit);
	}
	return format.format(Math.round(seconds / (365 * 24 * 60 * 60)), 'year');
}

/** The date and time in full: "2 Dec 2026, 14:05" / "02.12.2026, 14:05". */
export function fullDate(iso: string, locale: string = getLocale(), timeZone?: string): string {
	return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso));
}

/** The day alone: "2 December 2026" / "2. Dezember 2026". */
export function longDate(iso: string, locale: string = getLocale(), timeZone?: string): string {
	return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone }).format(new Date(iso));
}

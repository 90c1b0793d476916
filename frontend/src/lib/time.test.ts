import { describe, expect, it } from 'vitest';
import { fullDate, relativeTime } from './time';

const now = Date.parse('2026-11-29T12:00:00Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

describe('relativeTime', () => {
	it.each([
		[0, 'just now'],
		[59, 'just now'],
		[-30, 'just now'],
		[60, '1 minute ago'],
		[5 * 60, '5 minutes ago'],
		[3 * 3600, '3 hours ago'],
		[26 * 3600, 'yesterday'],
		[3 * 86400, '3 days ago'],
		[15 * 86400, '2 weeks ago'],
		[62 * 86400, '2 months ago'],
		[800 * 86400, '2 years ago'],
		[-2 * 86400, 'in 2 days']
	])('%i s ago reads “%s”', (seconds, text) => {
		expect(relativeTime(ago(seconds), now)).toBe(text);
	});
});

describe('fullDate', () => {
	it('names the year and the time', () => {
		expect(fullDate('2026-11-29T12:00:00Z')).toMatch(/2026/);
	});
});

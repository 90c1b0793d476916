import { describe, expect, it } from 'vitest';
import { formatWait } from './format-wait';
import { parseRetryAfter } from './retry-after';

describe('parseRetryAfter', () => {
	const now = Date.parse('2026-11-29T12:00:00Z');

	it('reads whole seconds', () => {
		expect(parseRetryAfter('42', now)).toBe(42);
		expect(parseRetryAfter(' 0 ', now)).toBe(0);
	});

	it('reads an HTTP date as the seconds until then, never negative', () => {
		expect(parseRetryAfter('Sun, 29 Nov 2026 12:01:30 GMT', now)).toBe(90);
		expect(parseRetryAfter('Sun, 29 Nov 2026 11:00:00 GMT', now)).toBe(0);
	});

	it('gives up on a missing (or not exposed) or malformed header', () => {
		expect(parseRetryAfter(null, now)).toBeUndefined();
		expect(parseRetryAfter('', now)).toBeUndefined();
		expect(parseRetryAfter('-3', now)).toBeUndefined();
		expect(parseRetryAfter('soon', now)).toBeUndefined();
	});
});

describe('formatWait', () => {
	it.each([
		[1, '1 second'],
		[45, '45 seconds'],
		[60, '1 minute'],
		[185, '3 minutes 5 seconds'],
		[3600, '1 hour'],
		[7260, '2 hours 1 minute']
	])('%i s reads “%s”', (seconds, text) => {
		expect(formatWait(seconds)).toBe(text);
	});
});

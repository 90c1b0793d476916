import { describe, expect, it } from 'vitest';
import { Authenticator, base32Decode, hotp, stepAt, totp } from './totp';

// The test helper that plays the authenticator app must itself be right: RFC 4226 and RFC 6238 vectors.
describe('totp (test helper)', () => {
	it('matches RFC 4226 appendix D', () => {
		const key = Buffer.from('12345678901234567890');
		expect([0, 1, 2, 3, 9].map((c) => hotp(key, c))).toEqual(['755224', '287082', '359152', '969429', '520489']);
	});

	it('matches RFC 6238 appendix B (SHA-1, 8 digits)', () => {
		const key = Buffer.from('12345678901234567890');
		const at = (seconds: number) => hotp(key, stepAt(seconds * 1000), 8);
		expect([59, 1111111109, 1234567890, 2000000000].map(at)).toEqual([
			'94287082',
			'07081804',
			'89005924',
			'69279037'
		]);
	});

	it('reads base32 secrets as apps do', () => {
		expect(base32Decode('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ').toString()).toBe('12345678901234567890');
		expect(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1)).toBe('287082');
	});

	it('never hands out the same step twice', async () => {
		const app = new Authenticator('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
		const start = stepAt(Date.now());
		const first = await app.next();
		const second = await app.next();
		expect(second).not.toBe(first);
		// The next step (or, had the clock just moved on, the one after).
		expect([start + 1, start + 2].map((step) => totp(app.secret, step))).toContain(second);
	});
});

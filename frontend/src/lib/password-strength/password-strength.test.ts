import { describe, expect, it } from 'vitest';
import { containsUsernameMessage, loadEstimator, rate } from '.';

const estimate = await loadEstimator();

describe('password strength (zxcvbn-ts, as the server scores it)', () => {
	// The server's own examples of guessable passwords (backend/src/domain/password.rs): all below 3.
	it.each(['123456789012', 'passwordpassword', 'qwertyuiopasdf', 'aaaaaaaaaaaa'])(
		'%s is too easy to guess, with a reason',
		(password) => {
			const strength = rate(estimate, password, 'alice', 3);
			expect(strength.acceptable).toBe(false);
			expect(strength.score).toBeLessThan(3);
			expect(strength.advice).not.toBe('');
		}
	);

	it('a few uncommon words are strong, with nothing to add', () => {
		const strength = rate(estimate, 'correct horse battery staple', 'alice', 3);
		expect(strength).toEqual({ score: 4, label: 'Very strong', acceptable: true, advice: '' });
	});

	it('refuses a password containing the username, in any letter case', () => {
		const strength = rate(estimate, 'xXAlice-rules-2026-forever', 'alice', 3);
		expect(strength).toEqual({
			score: 0,
			label: 'Very weak',
			acceptable: false,
			advice: containsUsernameMessage()
		});
		expect(containsUsernameMessage()).toBe('Password must not contain your username.');
	});

	it('knows the username as a user input, not only as a substring', () => {
		const withName = rate(estimate, 'ada.lovelace.1815', 'adalovelace', 3);
		const stranger = rate(estimate, 'ada.lovelace.1815', 'someone', 3);
		expect(withName.score).toBeLessThanOrEqual(stranger.score);
	});

	it('ignores a username too short to be valid', () => {
		expect(rate(estimate, 'correct horse battery staple', 'a', 3).acceptable).toBe(true);
	});

	it('follows the configured minimum score', () => {
		const fair = rate(estimate, 'tiger lily 1987', 'alice', 0);
		expect(fair.acceptable).toBe(true);
		expect(rate(estimate, 'tiger lily 1987', 'alice', 4).acceptable).toBe(fair.score >= 4);
	});

	it('loads the estimator once', async () => {
		expect(await loadEstimator()).toBe(estimate);
	});
});

import { describe, expect, it } from 'vitest';
import { expectWelcome, takeWelcome, welcomeUrl } from './welcome';

describe('the post-sign-up prompt', () => {
	it('is due once, and only for the account just made', () => {
		expect(takeWelcome('alice')).toBe(false);
		expectWelcome(' Alice ');
		expect(takeWelcome('bob')).toBe(false);
		expect(takeWelcome('alice')).toBe(true);
		expect(takeWelcome('alice')).toBe(false);
	});

	it('keeps where the person was headed, when that is a page of this site', () => {
		expect(welcomeUrl(null)).toBe('/welcome');
		expect(welcomeUrl('/account/security?x=1')).toBe('/welcome?redirectTo=/account/security%3Fx%3D1');
		expect(welcomeUrl('https://evil.test/')).toBe('/welcome');
	});
});

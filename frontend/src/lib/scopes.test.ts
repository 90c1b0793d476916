import { describe, expect, it } from 'vitest';
import { scopeSentences } from './scopes';

describe('scopeSentences', () => {
	it('says what each known scope gives, in a fixed order, whatever order they were asked in', () => {
		expect(scopeSentences(['offline_access', 'email', 'openid', 'profile'])).toEqual([
			{ scope: 'openid', text: 'Who you are: an identifier for your Latchkey account' },
			{ scope: 'profile', text: 'Your username' },
			{ scope: 'email', text: 'Your email address, and whether it is verified' },
			{ scope: 'offline_access', text: 'Stay signed in (offline access): it can keep using your account while you are away' }
		]);
	});

	it('names an unknown scope as it is, once', () => {
		expect(scopeSentences(['openid', 'calendar', 'calendar'])).toEqual([
			{ scope: 'openid', text: 'Who you are: an identifier for your Latchkey account' },
			{ scope: 'calendar', text: 'Access named “calendar”' }
		]);
	});
});

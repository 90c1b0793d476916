import { describe, expect, it } from 'vitest';
import { accountAddressFor } from './old-addresses';

describe('accountAddressFor (/profile moved)', () => {
	it.each([
		['', '', '/account'],
		['?tab=1', '', '/account?tab=1'],
		['', '#sessions-title', '/account/sessions'],
		['', '#sessions', '/account/sessions'],
		['', '#passkeys-title', '/account/security#passkeys-title'],
		['', '#two-factor-title', '/account/security#two-factor-title'],
		['', '#password-title', '/account/security#password-title'],
		['?x=y', '#activity-title', '/account/activity?x=y'],
		['', '#delete-title', '/account#delete-title'],
		['', '#somewhere', '/account#somewhere'],
		['', '#sessionsx', '/account#sessionsx']
	])('%s%s → %s', (search, hash, to) => {
		expect(accountAddressFor(search, hash)).toBe(to);
	});
});

import { describe, expect, it } from 'vitest';
import { loginUrlFor, safeRedirect } from './redirect';

const origin = 'http://app.test';

describe('safeRedirect', () => {
	it('keeps same-site paths, with their query and fragment', () => {
		expect(safeRedirect('/profile', '/', origin)).toBe('/profile');
		expect(safeRedirect('/a/b?c=d', '/', origin)).toBe('/a/b?c=d');
		expect(safeRedirect('/account/activity?kind=signed_in#top', '/', origin)).toBe('/account/activity?kind=signed_in#top');
	});

	it('gives the path as the browser will read it', () => {
		expect(safeRedirect('/a/../account', '/', origin)).toBe('/account');
	});

	it.each([
		null,
		'',
		'https://evil.test',
		'//evil.test',
		'/\\evil.test',
		'javascript:alert(1)',
		// Browsers drop tabs and newlines from URLs: these read as "//evil.test", another site.
		'/\t/evil.test',
		'/\n/evil.test',
		'/\r\n/evil.test',
		'\t//evil.test',
		' /profile'
	])('falls back for %j', (target) => {
		expect(safeRedirect(target, '/', origin)).toBe('/');
	});

	it.each(['/login', '/login?redirectTo=/login', '/login/', '/register', '/LOGIN'])(
		'never sends a signed-in person back to a sign-in form (%s)',
		(target) => {
			expect(safeRedirect(target, '/', origin)).toBe('/');
		}
	);
});

describe('loginUrlFor', () => {
	it('builds a readable redirect and escapes the rest', () => {
		expect(loginUrlFor('/profile')).toBe('/login?redirectTo=/profile');
		expect(loginUrlFor('/a&b')).toBe('/login?redirectTo=/a%26b');
		expect(new URL(loginUrlFor('/a&b'), 'http://x').searchParams.get('redirectTo')).toBe('/a&b');
	});
});

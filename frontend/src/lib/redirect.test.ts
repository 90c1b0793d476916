import { describe, expect, it } from 'vitest';
import { loginUrlFor, safeRedirect } from './redirect';

describe('safeRedirect', () => {
	it('keeps same-site paths', () => {
		expect(safeRedirect('/profile')).toBe('/profile');
		expect(safeRedirect('/a/b?c=d')).toBe('/a/b?c=d');
	});

	it.each([null, '', 'https://evil.test', '//evil.test', '/\\evil.test', 'javascript:alert(1)'])(
		'falls back for %s',
		(target) => {
			expect(safeRedirect(target)).toBe('/');
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

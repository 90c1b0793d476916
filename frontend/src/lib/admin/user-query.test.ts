import { describe, expect, it, vi } from 'vitest';
import { cursorOf, readUserQuery, searchKey, userQueryHref } from './user-query';

const read = (search: string) => readUserQuery(new URLSearchParams(search));

describe('the users search in the address', () => {
	it('reads what is there and defaults the rest', () => {
		expect(read('q=ann&page=2')).toEqual({ q: 'ann', match: 'prefix', status: '', page: 2 });
		expect(read('match=contains&status=disabled')).toEqual({ q: '', match: 'contains', status: 'disabled', page: 1 });
	});

	it('ignores values the page has no use for', () => {
		expect(read('match=regex&status=gone&page=-3')).toEqual({ q: '', match: 'prefix', status: '', page: 1 });
		expect(read('page=1.5').page).toBe(1);
		expect(read('page=abc').page).toBe(1);
		expect(read(`q=${'a'.repeat(80)}`).q).toHaveLength(64);
	});

	it('writes only what differs from the defaults, and reads back the same', () => {
		expect(userQueryHref({ q: '', match: 'prefix', status: '', page: 1 })).toBe('/admin');
		expect(userQueryHref({ q: '  ', match: 'prefix', status: '', page: 1 })).toBe('/admin');
		const query = { q: 'ann lee', match: 'contains', status: 'active', page: 3 } as const;
		const href = userQueryHref(query);
		expect(href).toBe('/admin?q=ann+lee&match=contains&status=active&page=3');
		expect(read(href.split('?')[1])).toEqual(query);
	});

	it('keys a search without its page and the spaces around its name', () => {
		expect(searchKey({ q: ' ann', match: 'prefix', status: '', page: 1 })).toBe(
			searchKey({ q: 'ann', match: 'prefix', status: '', page: 4 })
		);
	});
});

describe('the cursor of a page not seen yet', () => {
	const ok = (data: string | null) => ({ ok: true as const, data });

	it('is known for page 1 and for pages already turned to', async () => {
		const next = vi.fn();
		expect(await cursorOf(1, 20, [''], next)).toEqual(ok(''));
		expect(await cursorOf(3, 20, ['', 'b', 'c'], next)).toEqual(ok('c'));
		expect(next).not.toHaveBeenCalled();
	});

	it('walks from the nearest known page, at most 100 accounts a request', async () => {
		const next = vi.fn(async (after: string, limit: number) => ok(`${after}+${limit}`));
		expect(await cursorOf(2, 20, [''], next)).toEqual(ok('+20'));
		next.mockClear();
		expect(await cursorOf(9, 20, ['', 'x'], next)).toEqual(ok('x+100+40'));
		expect(next.mock.calls).toEqual([
			['x', 100],
			['x+100', 40]
		]);
	});

	it('says when the search has fewer pages, and passes a failure on', async () => {
		expect(await cursorOf(4, 20, [''], async () => ok(null))).toEqual(ok(null));
		const failure = { ok: false as const, failure: { message: 'down', fields: [] } };
		expect(await cursorOf(4, 20, [''], async () => failure)).toEqual(failure);
	});
});

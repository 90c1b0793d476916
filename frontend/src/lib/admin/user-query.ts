/**
 * The Users page's search as it stands in the address (`/admin?q=ann&match=contains&status=disabled&page=2`), so
 * a reload, Back and a shared link show the same accounts. Defaults stay out of the address.
 */
import type { Answer } from '$lib/api/answer';
import type { AccountStatus } from './api';

export interface UserQuery {
	/** The name typed, as typed (the search sends it trimmed). */
	q: string;
	match: 'prefix' | 'contains';
	status: AccountStatus | '';
	/** From 1. */
	page: number;
}

export function readUserQuery(params: URLSearchParams): UserQuery {
	const status = params.get('status');
	const page = Number(params.get('page'));
	return {
		q: (params.get('q') ?? '').slice(0, 64),
		match: params.get('match') === 'contains' ? 'contains' : 'prefix',
		status: status === 'active' || status === 'disabled' ? status : '',
		page: Number.isSafeInteger(page) && page > 1 ? page : 1
	};
}

/** `/admin` with the query's non-default parts, in a fixed order. */
export function userQueryHref(query: UserQuery, path = '/admin'): string {
	const params = new URLSearchParams();
	if (query.q.trim()) params.set('q', query.q);
	if (query.match !== 'prefix') params.set('match', query.match);
	if (query.status) params.set('status', query.status);
	if (query.page > 1) params.set('page', String(query.page));
	const search = params.toString();
	return search ? `${path}?${search}` : path;
}

/** What names one search's pages (the same search on another page has the same key). */
export const searchKey = (query: UserQuery) => JSON.stringify([query.q.trim(), query.match, query.status]);

/** The API's largest page: the walk to a page not seen yet takes this many accounts a step. */
const MOST = 100;

/**
 * The `after` cursor of page `page` (from 1) of `size` accounts: from the nearest earlier page whose cursor is
 * known (`known[0]` is page 1's, ''), it asks for the accounts in between, up to 100 a request, and takes each
 * answer's `next_after`. `null`: the search has fewer pages.
 */
export async function cursorOf(
	page: number,
	size: number,
	known: readonly (string | undefined)[],
	next: (after: string, limit: number) => Promise<Answer<string | null>>
): Promise<Answer<string | null>> {
	let from = Math.min(page - 1, known.length - 1);
	while (from > 0 && known[from] === undefined) from--;
	let after = known[from] ?? '';
	let skip = (page - 1 - from) * size;
	while (skip > 0) {
		const take = Math.min(MOST, skip);
		const answer = await next(after, take);
		if (!answer.ok) return answer;
		if (answer.data === null) return { ok: true, data: null };
		after = answer.data;
		skip -= take;
	}
	return { ok: true, data: after };
}

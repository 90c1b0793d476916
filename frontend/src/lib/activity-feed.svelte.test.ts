import { describe, expect, it } from 'vitest';
import type { ActivityQuery } from '$lib/api/account';
import type { ActivityEvent } from '$lib/api/client';
import { ActivityFeed } from './activity-feed.svelte';

const event = (id: number): ActivityEvent => ({
	id: String(id),
	kind: 'signed_in',
	at: new Date(Date.UTC(2026, 11, 1) + id * 60_000).toISOString()
});
// Newest first: 60, 59, …, 1.
const all = Array.from({ length: 60 }, (_, i) => event(60 - i));

function api(events = all, failures: Record<string, { status?: number; message: string }> = {}) {
	const queries: ActivityQuery[] = [];
	const load = async (query: ActivityQuery) => {
		queries.push(query);
		const failure = failures[query.before ?? 'first'];
		if (failure) return { ok: false as const, failure: { ...failure, fields: [] } };
		const start = query.before ? events.findIndex((e) => e.id === query.before) + 1 : 0;
		const page = events.slice(start, start + (query.limit ?? 50));
		const more = start + page.length < events.length;
		return { ok: true as const, data: { events: page, nextBefore: more ? page.at(-1)!.id : null } };
	};
	return { load, queries };
}

describe('ActivityFeed', () => {
	it('pages back through the cursor until the oldest event', async () => {
		const { load, queries } = api();
		const feed = new ActivityFeed(load, ['signed_in'], 25);

		await feed.refresh();
		expect(feed.events.map((e) => e.id).slice(0, 2)).toEqual(['60', '59']);
		expect(feed.nextBefore).toBe('36');
		await feed.more();
		await feed.more();

		expect(feed.events).toHaveLength(60);
		expect(feed.nextBefore).toBeNull();
		expect(queries).toEqual([
			{ kinds: ['signed_in'], limit: 25 },
			{ kinds: ['signed_in'], limit: 25, before: '36' },
			{ kinds: ['signed_in'], limit: 25, before: '11' }
		]);
		await feed.more();
		expect(queries).toHaveLength(3);
	});

	it('starts again from the newest when the cursor is gone (404), and says so', async () => {
		const { load } = api(all, { '36': { status: 404, message: 'Not found.' } });
		const feed = new ActivityFeed(load, [], 25);
		await feed.refresh();

		await feed.more();

		expect(feed.restarted).toBe(true);
		expect(feed.events).toHaveLength(25);
		expect(feed.events[0].id).toBe('60');
	});

	it('keeps the events when a reload fails, marked as possibly out of date', async () => {
		const failures: Record<string, { status?: number; message: string }> = {};
		const { load } = api(all, failures);
		const feed = new ActivityFeed(load, [], 25);
		await feed.refresh();
		failures.first = { status: 503, message: 'Busy.' };

		await feed.refresh();

		expect(feed.events).toHaveLength(25);
		expect(feed.stale).toBe(true);
		expect(feed.failure?.message).toBe('Busy.');
	});

	it('keeps the list when an older page fails, with the failure beside it', async () => {
		const { load } = api(all, { '36': { status: 503, message: 'Busy.' } });
		const feed = new ActivityFeed(load, [], 25);
		await feed.refresh();

		await feed.more();

		expect(feed.events).toHaveLength(25);
		expect(feed.moreFailure?.message).toBe('Busy.');
		expect(feed.stale).toBe(false);
	});
});

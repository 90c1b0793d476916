import { describe, expect, it } from 'vitest';
import type { Answer } from '$lib/api/answer';
import { Resource } from './resource.svelte';

function deferred<T>() {
	let resolve!: (value: T) => void;
	const promise = new Promise<T>((r) => (resolve = r));
	return { promise, resolve };
}

describe('Resource', () => {
	it('keeps the last good data after a failed reload, with the failure beside it', async () => {
		const answers: Answer<number>[] = [
			{ ok: true, data: 1 },
			{ ok: false, failure: { message: 'Down.', fields: [] } }
		];
		const resource = new Resource(async () => answers.shift()!);

		await resource.refresh();
		expect([resource.data, resource.failure, resource.loading]).toEqual([1, null, false]);
		await resource.refresh();
		expect([resource.data, resource.failure?.message]).toEqual([1, 'Down.']);
	});

	it('lets only the newest load’s answer count', async () => {
		const first = deferred<Answer<string>>();
		const second = deferred<Answer<string>>();
		const queue = [first.promise, second.promise];
		const resource = new Resource(() => queue.shift()!);

		const a = resource.refresh();
		const b = resource.refresh();
		second.resolve({ ok: true, data: 'new' });
		await b;
		first.resolve({ ok: true, data: 'old' });
		await a;

		expect(resource.data).toBe('new');
		expect(resource.loading).toBe(false);
	});
});

/**
 * Data a section of a page loads from the API: the last good data (kept while reloading or after a failed
 * reload), whether a load is running, and the last failure. Only the newest load's answer counts.
 */
import type { Answer, Failure } from '$lib/api/answer';

export class Resource<T> {
	data = $state.raw<T | null>(null);
	failure = $state.raw<Failure | null>(null);
	loading = $state(false);
	readonly #load: () => Promise<Answer<T>>;
	#latest = 0;

	constructor(load: () => Promise<Answer<T>>) {
		this.#load = load;
	}

	async refresh(): Promise<void> {
		const run = ++this.#latest;
		this.loading = true;
		const answer = await this.#load();
		if (run !== this.#latest) return;
		this.loading = false;
		if (answer.ok) {
			this.data = answer.data;
			this.failure = null;
		} else {
			this.failure = answer.failure;
		}
	}
}

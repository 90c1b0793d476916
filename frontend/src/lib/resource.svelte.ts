/**
 * Data a section of a page loads from the API: the last good data (kept while reloading or after a failed
 * reload, when the page says it may be out of date), when it was loaded, whether a load is running, and the
 * last failure. Only the newest load's answer counts.
 */
import type { Answer, Failure } from '$lib/api/answer';

export class Resource<T> {
	data = $state.raw<T | null>(null);
	failure = $state.raw<Failure | null>(null);
	loading = $state(false);
	/** When `data` arrived (ms since the epoch), or null before the first success. */
	loadedAt = $state<number | null>(null);
	readonly #load: () => Promise<Answer<T>>;
	readonly #now: () => number;
	#latest = 0;

	constructor(load: () => Promise<Answer<T>>, now: () => number = () => Date.now()) {
		this.#load = load;
		this.#now = now;
	}

	/** The data shown is the last good one, but the newest load failed: it may be out of date. */
	get stale(): boolean {
		return this.data !== null && this.failure !== null;
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
			this.loadedAt = this.#now();
		} else {
			this.failure = answer.failure;
		}
	}
}

/**
 * The activity page's list: pages of events, newest first, fetched further back through the API's cursor
 * (`before` = the previous page's `next_before`), for one set of kinds. A cursor the API no longer knows
 * (the event was pruned meanwhile: 404) starts the list again from the newest, and says so. A failed reload
 * of the first page keeps the events shown, marked as possibly out of date.
 */
import type { Answer, Failure } from '$lib/api/answer';
import type { ActivityKind, ActivityPage, ActivityQuery } from '$lib/api/account';
import type { ActivityEvent } from '$lib/api/client';

export const PAGE_SIZE = 25;

export class ActivityFeed {
	events = $state.raw<ActivityEvent[]>([]);
	/** The first page has arrived (so `events` is what the API said, possibly nothing). */
	loaded = $state(false);
	loadedAt = $state<number | null>(null);
	/** Where the next (older) page starts; null when the oldest kept event is shown. */
	nextBefore = $state<string | null>(null);
	/** The first page is loading (or loading again). */
	loading = $state(false);
	/** An older page is loading. */
	loadingMore = $state(false);
	/** The first page failed (with events still shown from before: they may be out of date). */
	failure = $state.raw<Failure | null>(null);
	/** The last older page failed. */
	moreFailure = $state.raw<Failure | null>(null);
	/** The list started again from the newest because the cursor was gone. */
	restarted = $state(false);

	readonly #load: (query: ActivityQuery) => Promise<Answer<ActivityPage>>;
	readonly #kinds: readonly ActivityKind[];
	readonly #pageSize: number;
	#run = 0;

	constructor(
		load: (query: ActivityQuery) => Promise<Answer<ActivityPage>>,
		kinds: readonly ActivityKind[] = [],
		pageSize = PAGE_SIZE
	) {
		this.#load = load;
		this.#kinds = kinds;
		this.#pageSize = pageSize;
	}

	get stale(): boolean {
		return this.loaded && this.failure !== null;
	}

	/** Loads the newest page (again), replacing the list. */
	async refresh(): Promise<void> {
		const run = ++this.#run;
		this.loading = true;
		this.loadingMore = false;
		const answer = await this.#load({ kinds: this.#kinds, limit: this.#pageSize });
		if (run !== this.#run) return;
		this.loading = false;
		if (!answer.ok) {
			this.failure = answer.failure;
			return;
		}
		this.events = answer.data.events;
		this.nextBefore = answer.data.nextBefore;
		this.loaded = true;
		this.loadedAt = Date.now();
		this.failure = this.moreFailure = null;
	}

	/** Appends the next older page. */
	async more(): Promise<void> {
		if (!this.nextBefore || this.loadingMore || this.loading) return;
		const run = this.#run;
		this.loadingMore = true;
		this.moreFailure = null;
		const answer = await this.#load({ kinds: this.#kinds, limit: this.#pageSize, before: this.nextBefore });
		if (run !== this.#run) return;
		this.loadingMore = false;
		if (answer.ok) {
			// An event seen on an earlier page is never shown twice.
			const seen = new Set(this.events.map((e) => e.id));
			this.events = [...this.events, ...answer.data.events.filter((e) => !seen.has(e.id))];
			this.nextBefore = answer.data.nextBefore;
		} else if (answer.failure.status === 404) {
			this.restarted = true;
			await this.refresh();
		} else {
			this.moreFailure = answer.failure;
		}
	}
}

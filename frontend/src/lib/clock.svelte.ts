/** The current time, ticking every `interval` ms while something reads it ("5 minutes ago" stays true). */
import { createSubscriber } from 'svelte/reactivity';

export class Clock {
	#now = Date.now();
	readonly #subscribe: () => void;

	constructor(interval = 30_000) {
		this.#subscribe = createSubscriber((update) => {
			const timer = setInterval(() => {
				this.#now = Date.now();
				update();
			}, interval);
			return () => clearInterval(timer);
		});
	}

	get now(): number {
		this.#subscribe();
		return this.#now;
	}
}

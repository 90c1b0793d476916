/**
 * A countdown to when the API will take another attempt (`Retry-After`), ticking once a second. It reads
 * the clock on every tick, so a tab the browser throttled in the background still shows the right wait.
 */
export class Countdown {
	/** Whole seconds left; 0 when there is nothing to wait for. */
	remaining = $state(0);
	#until = 0;
	#timer: ReturnType<typeof setInterval> | undefined;
	readonly #now: () => number;

	constructor(now: () => number = () => Date.now()) {
		this.#now = now;
	}

	get waiting(): boolean {
		return this.remaining > 0;
	}

	start(seconds: number): void {
		this.stop();
		this.#until = this.#now() + seconds * 1000;
		this.#tick();
		if (this.remaining > 0) this.#timer = setInterval(() => this.#tick(), 1000);
	}

	stop(): void {
		clearInterval(this.#timer);
		this.#timer = undefined;
		this.remaining = 0;
	}

	#tick(): void {
		this.remaining = Math.max(0, Math.ceil((this.#until - this.#now()) / 1000));
		if (this.remaining === 0) this.stop();
	}
}

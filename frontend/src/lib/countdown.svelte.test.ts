import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Countdown } from './countdown.svelte';

beforeEach(() => {
	vi.useFakeTimers();
});
afterEach(() => {
	vi.useRealTimers();
});

describe('Countdown', () => {
	it('counts whole seconds down to zero, then stops', () => {
		const countdown = new Countdown();
		countdown.start(3);
		expect(countdown.remaining).toBe(3);
		expect(countdown.waiting).toBe(true);

		vi.advanceTimersByTime(1000);
		expect(countdown.remaining).toBe(2);
		vi.advanceTimersByTime(2000);
		expect(countdown.remaining).toBe(0);
		expect(countdown.waiting).toBe(false);
		expect(vi.getTimerCount()).toBe(0);
	});

	it('follows the clock, not the number of ticks (a throttled background tab)', () => {
		let now = 0;
		const countdown = new Countdown(() => now);
		countdown.start(60);
		now = 45_000;
		vi.advanceTimersByTime(1000);
		expect(countdown.remaining).toBe(15);
	});

	it('a new start replaces the running one; stop clears it', () => {
		const countdown = new Countdown();
		countdown.start(5);
		countdown.start(30);
		expect(countdown.remaining).toBe(30);
		expect(vi.getTimerCount()).toBe(1);
		countdown.stop();
		expect(countdown.remaining).toBe(0);
		expect(vi.getTimerCount()).toBe(0);
	});

	it('has nothing to wait for after a zero', () => {
		const countdown = new Countdown();
		countdown.start(0);
		expect(countdown.waiting).toBe(false);
		expect(vi.getTimerCount()).toBe(0);
	});
});

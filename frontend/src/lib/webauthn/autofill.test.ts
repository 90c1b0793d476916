import { describe, expect, it, vi } from 'vitest';
import type { Failure } from '$lib/api/answer';
import { PasskeyAutofill, type AutofillOutcome } from './autofill';

function deferred<T>() {
	let resolve!: (value: T) => void;
	const promise = new Promise<T>((r) => (resolve = r));
	return { promise, resolve };
}

const refused: Failure = { code: 'invalid_passkey', status: 401, message: 'That passkey did not sign you in.', fields: [] };
const cancelled: AutofillOutcome<string> = { ok: false, failure: { message: 'cancelled', fields: [] }, cancelled: true };

/** An attempt that waits until its signal aborts (as a conditional request does), or `finish` is called. */
function waitingAttempt() {
	const signals: AbortSignal[] = [];
	const finishers: ((outcome: AutofillOutcome<string>) => void)[] = [];
	const attempt = vi.fn((signal: AbortSignal) => {
		signals.push(signal);
		const { promise, resolve } = deferred<AutofillOutcome<string>>();
		finishers.push(resolve);
		signal.addEventListener('abort', () => resolve(cancelled));
		return promise;
	});
	return { attempt, signals, finish: (outcome: AutofillOutcome<string>) => finishers.at(-1)!(outcome) };
}

describe('PasskeyAutofill', () => {
	it('runs one quiet request at a time', async () => {
		const { attempt } = waitingAttempt();
		const autofill = new PasskeyAutofill(attempt, { onsuccess: vi.fn(), onfailure: vi.fn() });
		autofill.start();
		autofill.start();
		await Promise.resolve();
		expect(attempt).toHaveBeenCalledTimes(1);
		expect(autofill.active).toBe(true);
	});

	it('stop aborts the request and resolves once it ended, saying nothing; start begins a new one', async () => {
		const { attempt, signals } = waitingAttempt();
		const handlers = { onsuccess: vi.fn(), onfailure: vi.fn() };
		const autofill = new PasskeyAutofill(attempt, handlers);
		autofill.start();
		await Promise.resolve();
		await autofill.stop();
		expect(signals[0].aborted).toBe(true);
		expect(autofill.active).toBe(false);
		expect(handlers.onfailure).not.toHaveBeenCalled();

		autofill.start();
		await Promise.resolve();
		expect(attempt).toHaveBeenCalledTimes(2);
		expect(signals[1].aborted).toBe(false);
	});

	it('a failure after the abort is not shown either (the browser may answer NotAllowedError or anything else)', async () => {
		const outcome = deferred<AutofillOutcome<string>>();
		const handlers = { onsuccess: vi.fn(), onfailure: vi.fn() };
		const autofill = new PasskeyAutofill(() => outcome.promise, handlers);
		autofill.start();
		const stopped = autofill.stop();
		outcome.resolve({ ok: false, failure: refused });
		await stopped;
		expect(handlers.onfailure).not.toHaveBeenCalled();
	});

	it('a chosen passkey that signs in is reported, even when stop came meanwhile', async () => {
		const outcome = deferred<AutofillOutcome<string>>();
		const handlers = { onsuccess: vi.fn(), onfailure: vi.fn() };
		const autofill = new PasskeyAutofill(() => outcome.promise, handlers);
		autofill.start();
		const stopped = autofill.stop();
		outcome.resolve({ ok: true, value: 'alice' });
		await stopped;
		expect(handlers.onsuccess).toHaveBeenCalledWith('alice');
	});

	it('a chosen passkey the server refused is shown, and the handler may start the next request at once', async () => {
		const { attempt, finish } = waitingAttempt();
		const autofill: PasskeyAutofill<string> = new PasskeyAutofill(attempt, {
			onsuccess: vi.fn(),
			onfailure: () => autofill.start()
		});
		autofill.start();
		await Promise.resolve();
		finish({ ok: false, failure: refused });
		await vi.waitFor(() => expect(attempt).toHaveBeenCalledTimes(2));
		expect(autofill.active).toBe(true);
	});

	it('a quiet request that ended without a choice says nothing; an attempt that throws neither', async () => {
		const handlers = { onsuccess: vi.fn(), onfailure: vi.fn() };
		const first = new PasskeyAutofill(async () => cancelled, handlers);
		first.start();
		await first.stop();
		const second = new PasskeyAutofill<string>(() => Promise.reject(new Error('chunk failed to load')), handlers);
		second.start();
		await second.stop();
		expect(handlers.onfailure).not.toHaveBeenCalled();
		expect(second.active).toBe(false);
	});

	it('close aborts for good', async () => {
		const { attempt, signals } = waitingAttempt();
		const autofill = new PasskeyAutofill(attempt, { onsuccess: vi.fn(), onfailure: vi.fn() });
		autofill.start();
		await Promise.resolve();
		autofill.close();
		expect(signals[0].aborted).toBe(true);
		await autofill.stop();
		autofill.start();
		await Promise.resolve();
		expect(attempt).toHaveBeenCalledTimes(1);
	});
});

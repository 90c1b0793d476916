/**
 * The login form's quiet passkey request (conditional mediation): started when the form shows, it waits while
 * the browser offers passkeys in the username field's autofill. Only one WebAuthn request can run at a time,
 * so it is aborted before the password is sent or the "Sign in with a passkey" button asks, and started again
 * after. An aborted or cancelled request is never shown as an error. Small and free of WebAuthn code: the
 * ceremony itself (`$lib/webauthn`) loads with the first `start`.
 */
import type { Failure } from '$lib/api/answer';

/** One quiet attempt's outcome: `cancelled` when it ended without the person choosing a passkey. */
export type AutofillOutcome<T> = { ok: true; value: T } | { ok: false; failure: Failure; cancelled?: boolean };

export interface AutofillHandlers<T> {
	/** A passkey chosen from the autofill signed someone in (reported even when `stop` came meanwhile). */
	onsuccess: (value: T) => void;
	/** A chosen passkey did not sign in (e.g. the server no longer knows it). */
	onfailure: (failure: Failure) => void;
}

export class PasskeyAutofill<T> {
	#attempt: (signal: AbortSignal) => Promise<AutofillOutcome<T>>;
	#handlers: AutofillHandlers<T>;
	#controller: AbortController | null = null;
	#running: Promise<void> | null = null;
	#closed = false;

	constructor(attempt: (signal: AbortSignal) => Promise<AutofillOutcome<T>>, handlers: AutofillHandlers<T>) {
		this.#attempt = attempt;
		this.#handlers = handlers;
	}

	/** Whether a quiet request is waiting now. */
	get active(): boolean {
		return this.#running !== null;
	}

	/** Starts a quiet request unless one is waiting already (or the form is gone). */
	start(): void {
		if (this.#running || this.#closed) return;
		const controller = new AbortController();
		this.#controller = controller;
		const settle = () => {
			if (this.#controller === controller) {
				this.#running = null;
				this.#controller = null;
			}
		};
		this.#running = Promise.resolve()
			.then(() => this.#attempt(controller.signal))
			.then(
				(outcome) => {
					// Ended: the handlers may start the next one.
					settle();
					// A sign-in that got through is one, whoever asked to stop meanwhile.
					if (outcome.ok) return this.#handlers.onsuccess(outcome.value);
					if (controller.signal.aborted || outcome.cancelled) return;
					this.#handlers.onfailure(outcome.failure);
				},
				settle
			);
	}

	/** Aborts the waiting request and resolves once it has ended, so another request can begin. */
	async stop(): Promise<void> {
		this.#controller?.abort();
		await this.#running;
	}

	/** For good (the form left the page): aborts and never starts again. */
	close(): void {
		this.#closed = true;
		this.#controller?.abort();
	}
}

/**
 * One shape for every API answer a component handles: the data, or a failure that is safe to show
 * (the server's message and field errors, `Retry-After`), also when the server could not be reached.
 */
import { m } from '$lib/paraglide/messages';
import { baseLocale, getLocale } from '$lib/paraglide/runtime';
import { parseRetryAfter } from './retry-after';
import type { ErrorBody, FieldError } from './client';

/** What a form or a section needs to show after a failed request. */
export interface Failure {
	/** The API's error code; absent when the server could not be reached or answered off-contract. */
	code?: ErrorBody['code'];
	/** The HTTP status; absent when there was no answer (network error, timeout). */
	status?: number;
	message: string;
	fields: FieldError[];
	/** Seconds to wait before trying again, from `Retry-After` (with a 429 or a 503). */
	retryAfter?: number;
}

export type Answer<T> = { ok: true; data: T } | { ok: false; failure: Failure };

/** What a dropped connection and a timeout read as (functions: the language can change). */
export const networkErrorMessage = () => m.error_network();
export const timeoutMessage = () => m.error_timeout();

/**
 * The API speaks English: its `message` is shown as it is in English. In another language the catalogue's
 * words for its `code` are shown instead (the message itself when the code has none). Those words load with
 * the language (`loadErrorWords`, called by src/lib/i18n.svelte.ts), so English pages never carry them.
 * Field messages (`fields`) stay the server's.
 */
let errorWords: ((code: ErrorBody['code'], status: number) => string | null) | null = null;

export async function loadErrorWords(): Promise<void> {
	errorWords ??= (await import('./error-words')).errorWords;
}

function localizedError(code: ErrorBody['code'] | undefined, status: number): string | null {
	if (getLocale() === baseLocale || !code || !errorWords) return null;
	return errorWords(code, status);
}

/** The failure for an API answer that is not a success. */
export function failureOf(error: unknown, response: Response): Failure {
	const status = response.status;
	const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
	const body = error as Partial<ErrorBody> | undefined;
	if (body && typeof body === 'object' && typeof body.message === 'string') {
		const message = localizedError(body.code, status) ?? body.message;
		return { code: body.code, status, message, fields: body.fields ?? [], retryAfter };
	}
	return { status, message: m.error_unexpected({ status }), fields: [], retryAfter };
}

/** The failure for a request that never got an answer: a dropped connection or a timeout. */
export function failureFromError(error: unknown): Failure {
	const timedOut = error instanceof Error && error.name === 'TimeoutError';
	return { message: timedOut ? timeoutMessage() : networkErrorMessage(), fields: [] };
}

/** Runs one openapi-fetch call and folds its three outcomes (data, error answer, no answer) into one. */
export async function ask<T>(
	call: () => Promise<{ data?: T; error?: unknown; response: Response }>
): Promise<Answer<T>> {
	try {
		const { data, error, response } = await call();
		if (response.ok) return { ok: true, data: data as T };
		return { ok: false, failure: failureOf(error, response) };
	} catch (error) {
		return { ok: false, failure: failureFromError(error) };
	}
}

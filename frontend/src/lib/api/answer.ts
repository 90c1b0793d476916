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
 * The API speaks English: its `message` is shown as it is in English, and in another language the
 * catalogue's words for its `code` are shown instead (the message itself when the code has none, or is one
 * the catalogue does not know yet). Field messages (`fields`) stay the server's.
 */
const ERROR_MESSAGES: Partial<Record<ErrorBody['code'], (status: number) => string>> = {
	invalid_credentials: (status) => (status === 401 ? m.api_invalid_credentials() : m.api_wrong_password()),
	username_taken: () => m.api_username_taken(),
	account_disabled: () => m.api_account_disabled(),
	invalid_mfa_code: () => m.api_invalid_mfa_code(),
	mfa_challenge_expired: () => m.api_mfa_challenge_expired(),
	second_factor_required: () => m.api_second_factor_required(),
	mfa_already_enabled: () => m.api_mfa_already_enabled(),
	mfa_not_enabled: () => m.api_mfa_not_enabled(),
	invalid_passkey: () => m.api_invalid_passkey(),
	passkey_already_registered: () => m.api_passkey_already_registered(),
	too_many_attempts: () => m.api_too_many_attempts(),
	validation_failed: () => m.api_validation_failed(),
	not_found: () => m.api_not_found(),
	service_unavailable: () => m.api_service_unavailable(),
	internal: () => m.api_internal()
};

function localizedError(code: ErrorBody['code'] | undefined, status: number): string | null {
	if (getLocale() === baseLocale || !code) return null;
	return ERROR_MESSAGES[code]?.(status) ?? null;
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

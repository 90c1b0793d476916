/**
 * Turns an API failure into what a form shows: messages beside its own fields (from the error body's
 * `fields`, or from a code that is about one field, like `username_taken`) and, when that does not explain
 * it all, one message for the form's alert.
 */
import type { Failure } from '$lib/api/answer';

export type ErrorCode = NonNullable<Failure['code']>;

export interface FormErrors<F extends string> {
	fields: Partial<Record<F, string>>;
	alert: string | null;
}

export function formErrors<F extends string>(
	failure: Failure,
	fields: readonly F[],
	codeFields: Partial<Record<ErrorCode, F>> = {}
): FormErrors<F> {
	const own = (name: string): name is F => (fields as readonly string[]).includes(name);
	const result: Partial<Record<F, string>> = {};
	let unexplained = failure.fields.length === 0;
	for (const { field, message } of failure.fields) {
		if (own(field)) result[field] ??= message;
		else unexplained = true;
	}
	const codeField = failure.code && codeFields[failure.code];
	if (codeField && failure.fields.length === 0) {
		result[codeField] = failure.message;
		unexplained = false;
	}
	return { fields: result, alert: unexplained ? failure.message : null };
}

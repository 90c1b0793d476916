import { describe, expect, it } from 'vitest';
import { formErrors } from './form-errors';

describe('formErrors', () => {
	it('puts each field’s message beside it, the first one per field, with no alert', () => {
		const errors = formErrors(
			{
				code: 'validation_failed',
				message: 'Some fields are invalid.',
				fields: [
					{ field: 'password', message: 'Too easy to guess.' },
					{ field: 'password', message: 'Second opinion.' },
					{ field: 'username', message: 'Too short.' }
				]
			},
			['username', 'password']
		);
		expect(errors).toEqual({
			fields: { username: 'Too short.', password: 'Too easy to guess.' },
			alert: null
		});
	});

	it('keeps the alert when a field is not one of the form’s', () => {
		const errors = formErrors(
			{ code: 'validation_failed', message: 'Invalid.', fields: [{ field: 'email', message: 'No.' }] },
			['username', 'password']
		);
		expect(errors).toEqual({ fields: {}, alert: 'Invalid.' });
	});

	it('shows a code that is about one field (username_taken) on that field', () => {
		const errors = formErrors(
			{ code: 'username_taken', message: 'That username is already taken.', fields: [] },
			['username', 'password'],
			{ username_taken: 'username' }
		);
		expect(errors).toEqual({ fields: { username: 'That username is already taken.' }, alert: null });
	});

	it('leaves everything else to the alert', () => {
		expect(
			formErrors({ code: 'invalid_credentials', message: 'Invalid username or password.', fields: [] }, [
				'username',
				'password'
			])
		).toEqual({ fields: {}, alert: 'Invalid username or password.' });
	});
});

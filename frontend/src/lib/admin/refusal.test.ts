import { afterEach, describe, expect, it } from 'vitest';
import { overwriteGetLocale, type Locale } from '$lib/paraglide/runtime';
import { adminRefusal } from './api';

let locale: Locale = 'en';
overwriteGetLocale(() => locale);
afterEach(() => {
	locale = 'en';
});

const refusal = (code: string, message = 'As the API says it.') =>
	({ status: 409, code, message, fields: [] }) as Parameters<typeof adminRefusal>[0];

describe('the console’s refusals', () => {
	it('says why a change that would lock administrators out was refused, in English and German', () => {
		expect(adminRefusal(refusal('last_admin'), 'root')).toBe(
			'Not done: root is the last enabled administrator, and nobody could run the console afterwards. Make someone else an administrator first.'
		);
		expect(adminRefusal(refusal('cannot_disable_self'), 'me')).toMatch(/^Not done: you can’t disable your own account\./);

		locale = 'de';
		expect(adminRefusal(refusal('last_admin'), 'root')).toMatch(/^Nicht ausgeführt: root ist die letzte aktive Administratorin/);
		expect(adminRefusal(refusal('cannot_disable_self'), 'me')).toMatch(/^Nicht ausgeführt: Dein eigenes Konto kannst du nicht sperren\./);
	});

	it('passes any other refusal on as the API said it', () => {
		expect(adminRefusal(refusal('role_exists', 'A role with that name already exists.'), 'x')).toBe(
			'A role with that name already exists.'
		);
		expect(adminRefusal({ ...refusal('last_admin'), status: 500 }, 'x')).toBe('As the API says it.');
	});
});

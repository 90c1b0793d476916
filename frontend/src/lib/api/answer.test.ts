import { afterEach, describe, expect, it } from 'vitest';
import { overwriteGetLocale } from '$lib/paraglide/runtime';
import { failureOf, loadErrorWords } from './answer';

const response = (status: number) => new Response(null, { status });
const wrong = { code: 'invalid_credentials' as const, message: 'Invalid username or password.' };

afterEach(() => overwriteGetLocale(() => 'en'));

describe('failureOf', () => {
	it('shows the API’s own message in English', () => {
		expect(failureOf(wrong, response(401)).message).toBe('Invalid username or password.');
	});

	it('shows the catalogue’s words for the code in German, once they are loaded, and the message for a code without', async () => {
		overwriteGetLocale(() => 'de');
		await loadErrorWords();
		expect(failureOf(wrong, response(401)).message).toBe('Benutzername oder Passwort ist falsch.');
		expect(failureOf(wrong, response(403)).message).toBe('Das Passwort stimmt nicht.');
		expect(failureOf({ code: 'forbidden_origin', message: 'Origin not allowed.' }, response(403)).message).toBe(
			'Origin not allowed.'
		);
		expect(failureOf(undefined, response(502)).message).toBe('Unerwartete Antwort des Servers (502). Versuche es erneut.');
	});
});

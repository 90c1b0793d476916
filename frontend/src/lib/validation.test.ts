import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
	PASSWORD_MAX_LENGTH,
	PASSWORD_MIN_LENGTH,
	USERNAME_MAX_LENGTH,
	USERNAME_MIN_LENGTH,
	USERNAME_PATTERN,
	validatePassword,
	validateUsername
} from './validation';

type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, Schema> } & Record<string, unknown>;

const spec = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8'));

/** Follows `$ref`s (and single-entry `allOf` wrappers) to the schema itself. */
function resolve(schema: Schema): Schema {
	if (schema.$ref) {
		const target = schema.$ref
			.replace(/^#\//, '')
			.split('/')
			.reduce((node: Record<string, unknown>, key) => node[key] as Record<string, unknown>, spec);
		return resolve(target as Schema);
	}
	if (schema.allOf?.length === 1) return { ...schema, ...resolve(schema.allOf[0]), allOf: undefined };
	return schema;
}

const registerContent: Record<string, { schema: Schema }> = spec.paths['/register'].post.requestBody.content;
const jsonMediaType = Object.keys(registerContent).find((type) => type.startsWith('application/json'))!;
const registerBody = resolve(registerContent[jsonMediaType].schema);
const username = resolve(registerBody.properties!.username);
const password = resolve(registerBody.properties!.password);

describe('client-side rules match the API contract (openapi.json)', () => {
	it('username constraints', () => {
		expect({ min: username.minLength, max: username.maxLength, pattern: username.pattern }).toEqual({
			min: USERNAME_MIN_LENGTH,
			max: USERNAME_MAX_LENGTH,
			pattern: USERNAME_PATTERN
		});
	});

	it('password constraints', () => {
		expect({ min: password.minLength, max: password.maxLength }).toEqual({
			min: PASSWORD_MIN_LENGTH,
			max: PASSWORD_MAX_LENGTH
		});
	});
});

describe('validateUsername', () => {
	it.each(['abc', 'Alice_01', 'a.b-c', '9lives', 'x'.repeat(32)])('accepts %s', (value) => {
		expect(validateUsername(value)).toBeNull();
	});

	it.each([
		['', /Enter a username/],
		['ab', /at least 3/],
		['x'.repeat(33), /at most 32/],
		['_alice', /Start with a letter or digit/],
		['al ice', /only letters/],
		['ålice', /Start with a letter or digit/]
	])('rejects %j', (value, message) => {
		expect(validateUsername(value)).toMatch(message);
	});
});

describe('validatePassword', () => {
	it('counts Unicode code points, as the API does', () => {
		// Twelve emoji are 24 UTF-16 units but 12 characters: long enough.
		expect(validatePassword('🔑'.repeat(12))).toBeNull();
		expect(validatePassword('🔑'.repeat(11))).toMatch(/at least 12/);
		expect(validatePassword('🔑'.repeat(128))).toBeNull();
		expect(validatePassword('🔑'.repeat(129))).toMatch(/at most 128/);
	});

	it('asks for a password when empty', () => {
		expect(validatePassword('')).toMatch(/Enter a password/);
	});
});

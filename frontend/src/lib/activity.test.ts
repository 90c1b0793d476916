import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeKind, KNOWN_KINDS } from './activity';

const spec = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8'));

describe('describeKind', () => {
	it('names the kinds the API sends today', () => {
		expect(describeKind('signed_in')).toEqual({ title: 'Signed in', tone: 'info' });
		expect(describeKind('sign_in_failed').tone).toBe('warning');
		expect(describeKind('refresh_token_reuse_detected').tone).toBe('warning');
		expect(describeKind('password_changed').title).toBe('Password changed');
	});

	it('has its own words for every kind in openapi.json', () => {
		const kinds: string[] = spec.components.schemas.ActivityKind.enum;
		expect(kinds.filter((kind) => !(KNOWN_KINDS as readonly string[]).includes(kind))).toEqual([]);
	});

	it('flags the second-factor events worth a look', () => {
		expect(describeKind('second_factor_failed').tone).toBe('warning');
		expect(describeKind('recovery_code_used').tone).toBe('warning');
		expect(describeKind('signed_in_with_passkey')).toEqual({ title: 'Signed in with a passkey', tone: 'info' });
	});

	it('shows a kind added later by its own name instead of dropping it', () => {
		expect(describeKind('account_locked_by_policy')).toEqual({ title: 'Account locked by policy', tone: 'info' });
		expect(describeKind('')).toEqual({ title: 'Account event', tone: 'info' });
	});

	it('is not fooled by names of object properties', () => {
		expect(describeKind('constructor').title).toBe('Constructor');
		expect(describeKind('toString').title).toBe('ToString');
	});
});

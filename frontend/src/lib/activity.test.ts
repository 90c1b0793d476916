import { describe, expect, it } from 'vitest';
import { describeKind } from './activity';

describe('describeKind', () => {
	it('names the kinds the API sends today', () => {
		expect(describeKind('signed_in')).toEqual({ title: 'Signed in', tone: 'info' });
		expect(describeKind('sign_in_failed').tone).toBe('warning');
		expect(describeKind('refresh_token_reuse_detected').tone).toBe('warning');
		expect(describeKind('password_changed').title).toBe('Password changed');
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

import { describe, expect, it, vi } from 'vitest';
import {
	checkReset,
	fragmentToken,
	invalidProofMessage,
	proofFor,
	recoveryKeyFile,
	recoveryKeyFileName,
	resetBody,
	takeFragmentToken,
	validateEmail
} from './recovery';

const fields = {
	username: ' alice ',
	recoveryKey: ' 7HQ2-KM9X ',
	recoveryCode: ' 7hq2k-m9xvp ',
	code: '123 456',
	newPassword: 'a brand new horse staple'
};

describe('a link’s token', () => {
	it('is read from the fragment only', () => {
		expect(fragmentToken('#token=abc_-1')).toBe('abc_-1');
		expect(fragmentToken('token=abc')).toBe('abc');
		expect(fragmentToken('#token=')).toBeNull();
		expect(fragmentToken('')).toBeNull();
		expect(proofFor(new URL('http://app.test/reset-password?token=abc'))).toEqual({ kind: 'choose' });
	});

	it('leaves the address bar, query and router state kept', () => {
		const history = { state: { 'sveltekit:index': 3 }, replaceState: vi.fn() };
		const token = takeFragmentToken({ href: 'http://app.test/reset-password?x=1#token=abc' }, history);
		expect(token).toBe('abc');
		expect(history.replaceState).toHaveBeenCalledWith({ 'sveltekit:index': 3 }, '', '/reset-password?x=1');
	});

	it('leaves the history alone when there is no fragment', () => {
		const history = { state: null, replaceState: vi.fn() };
		expect(takeFragmentToken({ href: 'http://app.test/verify-email' }, history)).toBeNull();
		expect(history.replaceState).not.toHaveBeenCalled();
	});
});

describe('choosing the proof', () => {
	it('takes a token first, then ?with=key or ?with=code, else offers the ways back', () => {
		expect(proofFor(new URL('http://app.test/reset-password?with=key#token=t'))).toEqual({ kind: 'token', token: 't' });
		expect(proofFor(new URL('http://app.test/reset-password?with=key'))).toEqual({ kind: 'key' });
		expect(proofFor(new URL('http://app.test/reset-password?with=code'))).toEqual({ kind: 'code' });
		expect(proofFor(new URL('http://app.test/reset-password?with=other'))).toEqual({ kind: 'choose' });
	});

	it('sends exactly one proof with the new password', () => {
		expect(resetBody({ kind: 'token', token: 't' }, fields)).toEqual({ token: 't', new_password: fields.newPassword });
		expect(resetBody({ kind: 'key' }, fields)).toEqual({
			username: 'alice',
			recovery_key: '7HQ2-KM9X',
			new_password: fields.newPassword
		});
		expect(resetBody({ kind: 'code' }, fields)).toEqual({
			username: 'alice',
			recovery_code: '7hq2k-m9xvp',
			code: '123456',
			new_password: fields.newPassword
		});
	});

	it('asks for what each proof needs before anything is sent (a recovery code needs a code too)', () => {
		const empty = { username: '', recoveryKey: '', recoveryCode: '', code: '', newPassword: '' };
		expect(Object.keys(checkReset({ kind: 'token', token: 't' }, empty))).toEqual(['new_password']);
		expect(Object.keys(checkReset({ kind: 'key' }, empty))).toEqual(['username', 'recovery_key', 'new_password']);
		expect(checkReset({ kind: 'code' }, { ...fields, code: '' })).toEqual({
			code: 'Enter the code from your authenticator app.'
		});
		expect(checkReset({ kind: 'code' }, fields)).toEqual({});
		expect(checkReset({ kind: 'key' }, { ...fields, newPassword: 'short' }).new_password).toMatch(/at least 12/);
	});

	it('says what a refused proof may be, for each kind', () => {
		expect(invalidProofMessage('token')).toMatch(/^This link is wrong, used or expired/);
		expect(invalidProofMessage('key')).toMatch(/recovery key is wrong/);
		expect(invalidProofMessage('code')).toMatch(/recovery code was used already/);
	});
});

describe('the recovery key file and the email address', () => {
	it('names the account and says how to use the key', () => {
		const text = recoveryKeyFile('AAAA-BBBB', 'alice', new Date('2026-12-03T10:00:00Z'));
		expect(text.split('\n')).toEqual([
			'Latchkey recovery key for alice',
			'Made 2026-12-03.',
			expect.stringContaining('I have a recovery key'),
			'',
			'AAAA-BBBB',
			''
		]);
		expect(recoveryKeyFileName('al/ice')).toBe('latchkey-recovery-key-al_ice.txt');
	});

	it('checks an address only roughly: the server decides', () => {
		expect(validateEmail('  ')).toBe('Enter an email address.');
		expect(validateEmail('alice')).toBe('Enter an address like name@example.com.');
		expect(validateEmail('a b@example.com')).toBe('Enter an address like name@example.com.');
		expect(validateEmail(' alice@example.com ')).toBeNull();
	});
});

import { describe, expect, it } from 'vitest';
import {
	groupSecret,
	normalizeCode,
	recoveryCodesFile,
	recoveryCodesFileName,
	secondFactorBody,
	stepUpCodeFields,
	validateSecondFactor
} from './second-factor';

describe('second factor input', () => {
	it('reads a code as its digits, whatever the app or the paste put between them', () => {
		expect(normalizeCode(' 123 456 ')).toBe('123456');
		expect(normalizeCode('123-456')).toBe('123456');
	});

	it('asks for six digits, or any recovery code', () => {
		expect(validateSecondFactor({ kind: 'code', value: '' })).toBe('Enter the code from your authenticator app.');
		expect(validateSecondFactor({ kind: 'code', value: '12345' })).toBe('The code is 6 digits.');
		expect(validateSecondFactor({ kind: 'code', value: '12345a' })).toBe('The code is 6 digits.');
		expect(validateSecondFactor({ kind: 'code', value: '123 456' })).toBeNull();
		expect(validateSecondFactor({ kind: 'recovery_code', value: '  ' })).toBe('Enter one of your recovery codes.');
		expect(validateSecondFactor({ kind: 'recovery_code', value: 'abcd-efgh' })).toBeNull();
	});

	it('sends exactly one of code and recovery_code', () => {
		expect(secondFactorBody({ kind: 'code', value: '123 456' })).toEqual({ code: '123456' });
		expect(secondFactorBody({ kind: 'recovery_code', value: ' abcd-efgh ' })).toEqual({ recovery_code: 'abcd-efgh' });
	});

	it('puts a wrong password and a wrong or missing code on their own fields', () => {
		expect(stepUpCodeFields('current_password')).toEqual({
			invalid_credentials: 'current_password',
			invalid_mfa_code: 'second_factor',
			second_factor_required: 'second_factor'
		});
	});
});

describe('recovery codes', () => {

	it('downloads as a text file that says what the codes are, one a line', () => {
		const text = recoveryCodesFile(['aaaa-bbbb', 'cccc-dddd'], 'alice', new Date('2026-11-30T10:00:00Z'));
		const lines = text.split('\n');
		expect(lines[0]).toBe('Latchkey recovery codes for alice');
		expect(lines[1]).toMatch(/^Issued 2026-11-30\. Each code works once/);
		expect(lines.slice(-3)).toEqual(['aaaa-bbbb', 'cccc-dddd', '']);
		expect(recoveryCodesFileName('ada.lovelace')).toBe('latchkey-recovery-codes-ada.lovelace.txt');
		expect(recoveryCodesFileName('a/b\\c')).toBe('latchkey-recovery-codes-a_b_c.txt');
	});

	it('shows a setup key in groups of four, as apps ask for it', () => {
		expect(groupSecret('JBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP');
		expect(groupSecret('JBSWY3DPEHPK3PXPAB')).toBe('JBSW Y3DP EHPK 3PXP AB');
	});
});

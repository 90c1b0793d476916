import { describe, expect, it } from 'vitest';
import { drawQr, modulesToPath } from './index';

describe('QR drawing', () => {
	it('draws each row’s runs of dark modules as one rectangle', () => {
		const grid = ['##.#', '....', '.###', '#..#'];
		const path = modulesToPath(4, (row, column) => grid[row][column] === '#');
		expect(path).toBe('M0 0h2v1h-2zM3 0h1v1h-1zM1 2h3v1h-3zM0 3h1v1h-1zM3 3h1v1h-1z');
	});

	it('draws an otpauth URI as a QR code with its three finder patterns', () => {
		const { size, path } = drawQr(
			'otpauth://totp/Latchkey:alice?secret=JBSWY3DPEHPK3PXP&issuer=Latchkey&algorithm=SHA1&digits=6&period=30'
		);
		expect(size).toBeGreaterThanOrEqual(21);
		expect((size - 17) % 4).toBe(0);
		// Every finder pattern starts with a row of seven dark modules: top left, top right, bottom left.
		expect(path).toContain('M0 0h7v1h-7z');
		expect(path).toContain(`M${size - 7} 0h7v1h-7z`);
		expect(path).toContain(`M0 ${size - 7}h7v1h-7z`);
	});
});

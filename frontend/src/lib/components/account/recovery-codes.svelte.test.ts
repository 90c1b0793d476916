import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import RecoveryCodes from './RecoveryCodes.svelte';

const codes = Array.from({ length: 10 }, (_, i) => `code-${i}`);

function show() {
	const ondone = vi.fn();
	render(RecoveryCodes, { codes, username: 'alice', lead: 'Two-factor authentication is on.', ondone });
	return ondone;
}

afterEach(() => vi.unstubAllGlobals());

describe('RecoveryCodes', () => {
	it('will not close before the codes were kept somehow, and says how to keep them', async () => {
		const ondone = show();
		await fireEvent.click(screen.getByRole('button', { name: 'I’ve saved them' }));

		expect(ondone).not.toHaveBeenCalled();
		const why = screen.getByRole('alert');
		expect(why.textContent).toMatch(/copy, download or print them, or tick the box/);
		expect(document.activeElement).toBe(why.querySelector('p'));

		await fireEvent.click(screen.getByRole('checkbox', { name: 'I wrote them down or stored them another way' }));
		await fireEvent.click(screen.getByRole('button', { name: 'I’ve saved them' }));
		expect(ondone).toHaveBeenCalledOnce();
	});

	it('prints them (alone: the print style sheet shows only the marked block), which counts as kept', async () => {
		const print = vi.fn();
		vi.stubGlobal('print', print);
		const ondone = show();
		await fireEvent.click(screen.getByRole('button', { name: 'Print' }));

		expect(print).toHaveBeenCalledOnce();
		const printed = document.querySelector('[data-print]')!;
		expect(printed.textContent).toContain('Latchkey recovery codes for alice');
		expect(printed.querySelectorAll('[data-testid="recovery-code"]')).toHaveLength(10);
		await fireEvent.click(screen.getByRole('button', { name: 'I’ve saved them' }));
		expect(ondone).toHaveBeenCalledOnce();
	});

	it('counts a copy as kept, but not a copy the browser refused', async () => {
		const writeText = vi.fn().mockRejectedValueOnce(new Error('denied')).mockResolvedValue(undefined);
		vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
		const ondone = show();

		await fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
		await vi.waitFor(() => expect(screen.getByRole('status').textContent).toMatch(/did not allow copying/));
		await fireEvent.click(screen.getByRole('button', { name: 'I’ve saved them' }));
		expect(ondone).not.toHaveBeenCalled();

		await fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
		await vi.waitFor(() => expect(screen.getByRole('status').textContent).toBe('Copied the ten codes to the clipboard.'));
		await fireEvent.click(screen.getByRole('button', { name: 'I’ve saved them' }));
		expect(ondone).toHaveBeenCalledOnce();
	});
});

import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Profile } from '$lib/api/recovery';
import { Resource } from '$lib/resource.svelte';
import EmailSection from './EmailSection.svelte';
import RecoveryKeyShown from './RecoveryKeyShown.svelte';

const profile: Profile = {
	id: '00000000-0000-0000-0000-000000000001',
	username: 'alice',
	created_at: '2026-12-01T10:00:00Z',
	email: null,
	email_verified: false,
	recovery_key_created_at: null,
	roles: []
};

function loaded(data: Profile) {
	const resource = new Resource(async () => ({ ok: true as const, data }));
	void resource.refresh();
	return resource;
}

describe('EmailSection', () => {
	it('says so, and offers nothing, when the server sends no mail', async () => {
		render(EmailSection, { profile: loaded(profile), mail: false, username: 'alice', totpEnabled: false });
		expect(screen.getByTestId('email-off').textContent).toMatch(/sends no email/);
		expect(screen.queryByRole('button')).toBeNull();
	});

	it('shows an address waiting for its link, with a way to send it again or remove it', async () => {
		render(EmailSection, {
			profile: loaded({ ...profile, email: 'alice@example.com' }),
			mail: true,
			username: 'alice',
			totpEnabled: false
		});
		await vi.waitFor(() => expect(screen.getByTestId('email-state').textContent).toMatch(/Waiting for confirmation/));
		expect(screen.getByRole('button', { name: 'Send the link again' })).toBeTruthy();
		expect(screen.getByRole('button', { name: 'Remove address' })).toBeTruthy();
	});
});

describe('RecoveryKeyShown', () => {
	it('will not close before the key was kept somehow', async () => {
		const ondone = vi.fn();
		render(RecoveryKeyShown, { recoveryKey: 'AAAA-BBBB', username: 'alice', ondone });
		expect(screen.getByTestId('recovery-key').textContent?.trim()).toBe('AAAA-BBBB');
		await fireEvent.click(screen.getByRole('button', { name: 'I have saved it' }));
		expect(ondone).not.toHaveBeenCalled();
		expect(screen.getByRole('alert').textContent).toMatch(/Save the key first/);

		await fireEvent.click(screen.getByRole('checkbox', { name: 'I wrote it down or stored it another way' }));
		await fireEvent.click(screen.getByRole('button', { name: 'I have saved it' }));
		expect(ondone).toHaveBeenCalledOnce();
	});
});

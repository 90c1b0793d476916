import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Answer } from '$lib/api/answer';
import type { ConnectedApp } from '$lib/api/oidc';
import { Resource } from '$lib/resource.svelte';

vi.mock('$lib/stores/auth', () => ({ api: {}, auth: {} }));
const revokeApp = vi.fn();
vi.mock('$lib/api/oidc', () => ({ revokeApp: (...args: unknown[]) => revokeApp(...args) }));

import ConnectedAppList from './ConnectedAppList.svelte';

const now = Date.parse('2026-11-29T12:00:00Z');
const photos: ConnectedApp = {
	client_id: 'photos',
	name: 'Photo app',
	scopes: ['openid', 'profile', 'offline_access'],
	allowed_at: '2026-11-29T11:55:00Z'
};

describe('ConnectedAppList', () => {
	it('lists each app with when it was allowed, its last use and what it gets, in sentences', async () => {
		const apps = new Resource(async (): Promise<Answer<ConnectedApp[]>> => ({ ok: true, data: [photos] }));
		await apps.refresh();
		render(ConnectedAppList, { props: { apps, now } });
		const item = screen.getByTestId('connected-app');
		const text = item.textContent?.replace(/\s+/g, ' ');
		expect(text).toContain('Photo app');
		expect(text).toMatch(/Allowed 5 minutes ago/);
		expect(text).toContain('Not used yet');
		expect(within(item).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
			'Who you are: an identifier for your Latchkey account',
			'Your username',
			'Stay signed in (offline access): it can keep using your account while you are away'
		]);
	});

	it('revokes after a confirmation, then says so and lists what is left', async () => {
		const answers: Answer<ConnectedApp[]>[] = [
			{ ok: true, data: [photos] },
			{ ok: true, data: [] }
		];
		const apps = new Resource(async () => answers.shift()!);
		await apps.refresh();
		revokeApp.mockResolvedValue({ ok: true, data: undefined });
		render(ConnectedAppList, { props: { apps, now } });

		await fireEvent.click(screen.getByRole('button', { name: 'Revoke access…' }));
		expect(revokeApp).not.toHaveBeenCalled();
		await fireEvent.click(screen.getByRole('button', { name: 'Revoke access' }));
		expect(revokeApp).toHaveBeenCalledWith({}, 'photos');
		expect(await screen.findByText('Photo app no longer has access to your account.')).toBeTruthy();
		expect(await screen.findByText(/^You haven’t allowed any app to use your account\./)).toBeTruthy();
	});
});

import { render, screen } from '@testing-library/svelte';
import type { Writable } from 'svelte/store';
import { describe, expect, it, vi } from 'vitest';
import type { AuthState } from '$lib/stores/auth';

// The header reads only the auth store; each test sets the state it renders.
const mock = vi.hoisted(() => ({ state: undefined as unknown as Writable<AuthState> }));
vi.mock('$app/navigation', () => ({ goto: vi.fn() }));
vi.mock('$app/state', () => ({ page: { url: new URL('http://localhost/') } }));
vi.mock('$lib/stores/auth', async () => {
	const { writable } = await import('svelte/store');
	mock.state = writable<AuthState>({ user: null, loading: true, error: null, notice: null });
	return { auth: { subscribe: mock.state.subscribe, logout: vi.fn() } };
});

import Header from './Header.svelte';

describe('Header', () => {
	it('shows neither state while the session is being restored', () => {
		mock.state.set({ user: null, loading: true, error: null, notice: null });
		render(Header);
		expect(screen.queryByRole('link', { name: 'Log in' })).toBeNull();
		expect(screen.queryByRole('button', { name: 'Log out' })).toBeNull();
	});

	it('offers to log in or sign up when signed out', () => {
		mock.state.set({ user: null, loading: false, error: null, notice: null });
		render(Header);
		expect(screen.getByRole('link', { name: 'Log in' }).getAttribute('href')).toBe('/login');
		expect(screen.getByRole('link', { name: 'Sign up' }).getAttribute('href')).toBe('/register');
	});

	it('shows the username, an Account link and a Log out button when signed in', () => {
		mock.state.set({
			user: { id: '1', username: 'alice', created_at: '2026-11-29T12:00:00Z' },
			loading: false,
			error: null,
			notice: null
		});
		render(Header);
		expect(screen.getByTestId('header-username').textContent).toContain('alice');
		expect(screen.getByRole('link', { name: 'Account' }).getAttribute('href')).toBe('/account');
		expect(screen.getByRole('button', { name: 'Log out' })).toBeTruthy();
		expect(screen.queryByRole('link', { name: 'Log in' })).toBeNull();
	});
});

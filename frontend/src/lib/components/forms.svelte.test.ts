import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { writable } from 'svelte/store';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthState, Result } from '$lib/stores/auth';

// The forms talk to the auth store only; replace it with one whose answers each test controls.
const mock = vi.hoisted(() => ({
	login: vi.fn<(c: { username: string; password: string }) => Promise<Result>>(),
	register: vi.fn<(c: { username: string; password: string }) => Promise<Result>>()
}));
vi.mock('$lib/stores/auth', () => ({
	auth: {
		...writable<AuthState>({ user: null, loading: false, error: null, notice: null }),
		login: mock.login,
		register: mock.register
	}
}));

import LoginForm from './LoginForm.svelte';
import RegisterForm from './RegisterForm.svelte';

const user = { id: '00000000-0000-4000-8000-000000000000', username: 'alice', created_at: '2026-11-29T12:00:00Z' };

function deferred<T>() {
	let resolve!: (value: T) => void;
	const promise = new Promise<T>((r) => (resolve = r));
	return { promise, resolve };
}

async function type(label: string, value: string) {
	await fireEvent.input(screen.getByLabelText(label, { selector: 'input' }), { target: { value } });
}

beforeEach(() => {
	mock.login.mockReset();
	mock.register.mockReset();
});

describe('RegisterForm', () => {
	it('explains the rules beside the fields and sends nothing while they are broken', async () => {
		render(RegisterForm);
		await type('Username', '-x');
		await type('Password', 'short');
		await fireEvent.click(screen.getByRole('button', { name: 'Create account' }));

		const username = screen.getByLabelText('Username', { selector: 'input' });
		const password = screen.getByLabelText('Password', { selector: 'input' });
		expect(username.getAttribute('aria-invalid')).toBe('true');
		expect(document.getElementById(username.getAttribute('aria-describedby')!)?.textContent).toMatch(
			/at least 3/
		);
		expect(password.getAttribute('aria-describedby')).toBe('password-error password-strength');
		expect(document.getElementById('password-error')?.textContent).toMatch(/at least 12/);
		expect(document.activeElement).toBe(username);
		expect(mock.register).not.toHaveBeenCalled();
	});

	it('rates the password live, knowing the username, and describes the field with it', async () => {
		render(RegisterForm);
		await type('Username', 'alice');
		await type('Password', 'password1234');

		const meter = await screen.findByRole('meter', { name: 'Password strength' });
		await vi.waitFor(() => expect(meter.getAttribute('aria-valuetext')).toMatch(/not strong enough/));
		expect(Number(meter.getAttribute('aria-valuenow'))).toBeLessThan(3);
		const password = screen.getByLabelText('Password', { selector: 'input' });
		expect(password.getAttribute('aria-describedby')).toContain('password-strength');
		expect(document.getElementById('password-strength')?.textContent).toMatch(/Strength: .*not strong enough/);

		await type('Password', 'correct horse battery staple');
		await vi.waitFor(() => expect(meter.getAttribute('aria-valuetext')).toBe('Very strong'));

		await type('Password', 'alice-in-wonderland-1865');
		await vi.waitFor(() =>
			expect(document.getElementById('password-strength')?.textContent).toContain(
				'Password must not contain your username.'
			)
		);

		await type('Password', '');
		expect(screen.queryByRole('meter')).toBeNull();
	});

	it('uses the right autocomplete hints', () => {
		render(RegisterForm);
		expect(screen.getByLabelText('Username', { selector: 'input' }).getAttribute('autocomplete')).toBe('username');
		expect(screen.getByLabelText('Password', { selector: 'input' }).getAttribute('autocomplete')).toBe(
			'new-password'
		);
	});

	it('disables the button with a visible pending state while the request runs', async () => {
		const answer = deferred<Result>();
		mock.register.mockReturnValue(answer.promise);
		const onsuccess = vi.fn();
		render(RegisterForm, { onsuccess });
		await type('Username', 'alice');
		await type('Password', 'correct horse battery');
		await fireEvent.click(screen.getByRole('button', { name: 'Create account' }));

		const button = screen.getByRole('button', { name: /Creating account/ });
		expect((button as HTMLButtonElement).disabled).toBe(true);
		expect(mock.register).toHaveBeenCalledWith({ username: 'alice', password: 'correct horse battery' });

		answer.resolve({ ok: true, user });
		await vi.waitFor(() => expect(onsuccess).toHaveBeenCalledOnce());
		expect((screen.getByRole('button', { name: 'Create account' }) as HTMLButtonElement).disabled).toBe(false);
	});

	it('shows the server’s field messages beside the fields, focusing the first', async () => {
		mock.register.mockResolvedValue({
			ok: false,
			failure: {
				message: 'Some fields are invalid.',
				fields: [{ field: 'password', message: 'Password is too common.' }]
			}
		});
		render(RegisterForm);
		await type('Username', 'alice');
		await type('Password', 'password12345');
		await fireEvent.click(screen.getByRole('button', { name: 'Create account' }));

		const password = screen.getByLabelText('Password', { selector: 'input' });
		await vi.waitFor(() => expect(password.getAttribute('aria-invalid')).toBe('true'));
		expect(document.getElementById('password-error')?.textContent).toContain('Password is too common.');
		expect(document.activeElement).toBe(password);
		// Fully explained beside the field: no alert repeating it.
		expect(screen.getByRole('alert').textContent).toBe('');

		// Editing the field withdraws the server's complaint about the old value.
		await type('Password', 'password123456');
		await tick();
		expect(screen.queryByText('Password is too common.')).toBeNull();
	});

	it('shows username_taken on the username field', async () => {
		mock.register.mockResolvedValue({
			ok: false,
			failure: { code: 'username_taken', message: 'That username is already taken.', fields: [] }
		});
		render(RegisterForm);
		await type('Username', 'alice');
		await type('Password', 'correct horse battery');
		await fireEvent.click(screen.getByRole('button', { name: 'Create account' }));

		const username = screen.getByLabelText('Username', { selector: 'input' });
		await vi.waitFor(() => expect(username.getAttribute('aria-invalid')).toBe('true'));
		expect(document.getElementById(username.getAttribute('aria-describedby')!)?.textContent).toBe(
			'That username is already taken.'
		);
		expect(document.activeElement).toBe(username);
	});

	it('counts down from Retry-After on a 429 before another attempt', async () => {
		vi.useFakeTimers();
		try {
			mock.register.mockResolvedValue({
				ok: false,
				failure: { code: 'too_many_attempts', message: 'Too many sign-ups.', fields: [], retryAfter: 2 }
			});
			render(RegisterForm);
			await type('Username', 'alice');
			await type('Password', 'correct horse battery');
			await fireEvent.click(screen.getByRole('button', { name: 'Create account' }));

			await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain('Too many sign-ups.'));
			const button = screen.getByRole('button', { name: 'Try again in 2 seconds' }) as HTMLButtonElement;
			expect(button.disabled).toBe(true);
			await vi.advanceTimersByTimeAsync(1000);
			expect(button.textContent).toContain('Try again in 1 second');
			await vi.advanceTimersByTimeAsync(1000);
			expect((screen.getByRole('button', { name: 'Create account' }) as HTMLButtonElement).disabled).toBe(false);
		} finally {
			vi.useRealTimers();
		}
	});
});

describe('LoginForm', () => {
	it('asks for both fields without calling the server', async () => {
		render(LoginForm);
		await fireEvent.click(screen.getByRole('button', { name: 'Log in' }));

		expect(screen.getByText('Enter your username.')).toBeTruthy();
		expect(mock.login).not.toHaveBeenCalled();
	});

	it('shows the server’s message for a wrong password, clears the password and focuses it', async () => {
		mock.login.mockResolvedValue({
			ok: false,
			failure: { message: 'Invalid username or password.', fields: [] }
		});
		render(LoginForm);
		await type('Username', 'alice');
		await type('Password', 'wrong password');
		await fireEvent.click(screen.getByRole('button', { name: 'Log in' }));

		await vi.waitFor(() =>
			expect(screen.getByRole('alert').textContent).toContain('Invalid username or password.')
		);
		const password = screen.getByLabelText('Password', { selector: 'input' }) as HTMLInputElement;
		expect(password.value).toBe('');
		expect(document.activeElement).toBe(password);
		expect(password.getAttribute('autocomplete')).toBe('current-password');
	});

	it('shows the server’s field messages beside the login fields', async () => {
		mock.login.mockResolvedValue({
			ok: false,
			failure: {
				code: 'validation_failed',
				message: 'The request is invalid.',
				fields: [{ field: 'password', message: 'Use at most 128 characters.' }]
			}
		});
		render(LoginForm);
		await type('Username', 'alice');
		await type('Password', 'x'.repeat(129));
		await fireEvent.click(screen.getByRole('button', { name: 'Log in' }));

		const password = screen.getByLabelText('Password', { selector: 'input' });
		await vi.waitFor(() => expect(password.getAttribute('aria-invalid')).toBe('true'));
		expect(document.getElementById(password.getAttribute('aria-describedby')!)?.textContent).toBe(
			'Use at most 128 characters.'
		);
	});

	it('shows a 429 with a countdown and sends nothing until it ends', async () => {
		vi.useFakeTimers();
		try {
			mock.login.mockResolvedValue({
				ok: false,
				failure: {
					code: 'too_many_attempts',
					message: 'Too many failed attempts. Try again later.',
					fields: [],
					retryAfter: 65
				}
			});
			render(LoginForm);
			await type('Username', 'alice');
			await type('Password', 'wrong password');
			await fireEvent.click(screen.getByRole('button', { name: 'Log in' }));

			await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain('Too many failed attempts'));
			expect(screen.getByRole('button', { name: 'Try again in 1 minute 5 seconds' })).toBeTruthy();
			await type('Password', 'another guess');
			await fireEvent.submit(screen.getByRole('button', { name: /Try again in/ }).closest('form')!);
			expect(mock.login).toHaveBeenCalledOnce();

			await vi.advanceTimersByTimeAsync(65_000);
			expect(screen.getByRole('button', { name: 'Log in' })).toBeTruthy();
		} finally {
			vi.useRealTimers();
		}
	});

	it('lets the password be revealed and hidden again', async () => {
		render(LoginForm);
		const password = screen.getByLabelText('Password', { selector: 'input' });
		const toggle = screen.getByRole('button', { name: /Show/ });

		await fireEvent.click(toggle);
		expect(password.getAttribute('type')).toBe('text');
		expect(toggle.getAttribute('aria-pressed')).toBe('true');
		await fireEvent.click(toggle);
		expect(password.getAttribute('type')).toBe('password');
	});
});

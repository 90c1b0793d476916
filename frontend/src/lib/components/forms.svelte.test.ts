import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { writable } from 'svelte/store';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthState, LoginResult, RegisterResult, Result } from '$lib/stores/auth';

// The forms talk to the auth store only; replace it with one whose answers each test controls.
const mock = vi.hoisted(() => ({
	login: vi.fn<(c: { username: string; password: string }) => Promise<LoginResult>>(),
	register: vi.fn<(c: { username: string; password: string }) => Promise<RegisterResult>>(),
	verifySecondFactor: vi.fn<(f: { code?: string; recovery_code?: string }) => Promise<Result>>(),
	loginWithPasskey: vi.fn<(use: unknown) => Promise<Result>>()
}));
vi.mock('$lib/stores/auth', () => ({
	auth: {
		...writable<AuthState>({ user: null, loading: false, error: null, notice: null }),
		login: mock.login,
		register: mock.register,
		verifySecondFactor: mock.verifySecondFactor,
		loginWithPasskey: mock.loginWithPasskey
	}
}));
vi.mock('$lib/webauthn', () => ({ usePasskey: vi.fn(), createPasskey: vi.fn() }));

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
	mock.verifySecondFactor.mockReset();
	mock.loginWithPasskey.mockReset();
	vi.unstubAllGlobals();
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

		// The first rating loads zxcvbn and builds its dictionaries: about a CPU-second, far longer than
		// waitFor's default second on a loaded machine (scripts/test runs this beside the browser suite).
		const zxcvbn = { timeout: 15_000 };
		const meter = await screen.findByRole('meter', { name: 'Password strength' }, zxcvbn);
		await vi.waitFor(() => expect(meter.getAttribute('aria-valuetext')).toMatch(/not strong enough/), zxcvbn);
		expect(Number(meter.getAttribute('aria-valuenow'))).toBeLessThan(3);
		const password = screen.getByLabelText('Password', { selector: 'input' });
		expect(password.getAttribute('aria-describedby')).toContain('password-strength');
		expect(document.getElementById('password-strength')?.textContent).toMatch(/Strength: .*not strong enough/);

		await type('Password', 'correct horse battery staple');
		await vi.waitFor(() => expect(meter.getAttribute('aria-valuetext')).toBe('Very strong'), zxcvbn);

		await type('Password', 'alice-in-wonderland-1865');
		await vi.waitFor(
			() =>
				expect(document.getElementById('password-strength')?.textContent).toContain(
					'Password must not contain your username.'
				),
			zxcvbn
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

	it('says the account was made when only the sign-in after it failed, and offers to sign in', async () => {
		mock.register.mockResolvedValueOnce({
			ok: false,
			accountCreated: true,
			failure: { code: 'service_unavailable', status: 503, message: 'The service is busy.', fields: [] }
		});
		mock.register.mockResolvedValueOnce({ ok: true, user });
		const onsuccess = vi.fn();
		render(RegisterForm, { onsuccess });
		await type('Username', 'alice');
		await type('Password', 'correct horse battery');
		await fireEvent.click(screen.getByRole('button', { name: 'Create account' }));

		await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain('Your account alice was created'));
		expect(screen.getByRole('alert').textContent).toContain('The service is busy.');
		const password = screen.getByLabelText('Password', { selector: 'input' }) as HTMLInputElement;
		expect(password.value).toBe('correct horse battery');
		await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
		await vi.waitFor(() => expect(onsuccess).toHaveBeenCalled());
		expect(mock.register).toHaveBeenLastCalledWith({ username: 'alice', password: 'correct horse battery' });
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
			failure: { code: 'invalid_credentials', status: 401, message: 'Invalid username or password.', fields: [] }
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

	it.each([
		['a 503', { code: 'service_unavailable', status: 503, message: 'Busy.', fields: [] }],
		['a 429', { code: 'too_many_attempts', status: 429, message: 'Too many attempts.', fields: [] }],
		['a dropped connection', { message: 'Could not reach the server.', fields: [] }]
	] as const)('keeps the password after %s: only a wrong password clears it', async (_, failure) => {
		mock.login.mockResolvedValue({ ok: false, failure: { ...failure, fields: [] } });
		render(LoginForm);
		await type('Username', 'alice');
		await type('Password', 'correct horse battery');
		await fireEvent.click(screen.getByRole('button', { name: 'Log in' }));

		await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain(failure.message));
		const password = screen.getByLabelText('Password', { selector: 'input' }) as HTMLInputElement;
		expect(password.value).toBe('correct horse battery');
		expect(password.getAttribute('aria-invalid')).toBeNull();
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

describe('LoginForm, second factor', () => {
	async function passwordStep() {
		mock.login.mockResolvedValue({ ok: false, secondFactor: { methods: ['totp', 'recovery_code'] } });
		const onsuccess = vi.fn();
		render(LoginForm, { onsuccess });
		await type('Username', 'alice');
		await type('Password', 'correct horse battery');
		await fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
		const code = await screen.findByLabelText('Authentication code', { selector: 'input' });
		return { onsuccess, code: code as HTMLInputElement };
	}

	it('asks for the code after the right password, with the field focused and described', async () => {
		const { code } = await passwordStep();

		expect(screen.getByRole('heading', { name: 'Two-factor authentication' })).toBeTruthy();
		expect(screen.getByRole('form', { name: 'Two-factor authentication' })).toBeTruthy();
		expect(document.activeElement).toBe(code);
		expect(code.getAttribute('autocomplete')).toBe('one-time-code');
		expect(code.getAttribute('inputmode')).toBe('numeric');
		expect(document.getElementById(code.getAttribute('aria-describedby')!)?.textContent).toMatch(/6-digit code/);
		expect(screen.queryByLabelText('Password', { selector: 'input' })).toBeNull();
	});

	it('checks the code’s shape, then shows a wrong code on the field and clears it', async () => {
		const { code } = await passwordStep();
		await type('Authentication code', '12345');
		await fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
		expect(document.getElementById('login-code-error')?.textContent).toBe('The code is 6 digits.');
		expect(mock.verifySecondFactor).not.toHaveBeenCalled();

		mock.verifySecondFactor.mockResolvedValue({
			ok: false,
			failure: { code: 'invalid_mfa_code', status: 401, message: 'That code is not right.', fields: [] }
		});
		await type('Authentication code', '123 456');
		await fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
		await vi.waitFor(() => expect(code.getAttribute('aria-invalid')).toBe('true'));
		expect(mock.verifySecondFactor).toHaveBeenCalledWith({ code: '123456' });
		expect(document.getElementById('login-code-error')?.textContent).toBe('That code is not right.');
		expect(code.value).toBe('');
		expect(document.activeElement).toBe(code);
	});

	it('takes a recovery code instead, and finishes the sign-in', async () => {
		const { onsuccess } = await passwordStep();
		await fireEvent.click(screen.getByRole('button', { name: 'Use a recovery code' }));
		const recovery = screen.getByLabelText('Recovery code', { selector: 'input' });
		expect(document.activeElement).toBe(recovery);
		expect(screen.queryByLabelText('Authentication code', { selector: 'input' })).toBeNull();

		mock.verifySecondFactor.mockResolvedValue({ ok: true, user });
		await type('Recovery code', ' abcd-efgh ');
		await fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
		await vi.waitFor(() => expect(onsuccess).toHaveBeenCalledWith({ ok: true, user }));
		expect(mock.verifySecondFactor).toHaveBeenCalledWith({ recovery_code: 'abcd-efgh' });

		await fireEvent.click(screen.getByRole('button', { name: 'Use your authenticator app' }));
		expect(screen.getByLabelText('Authentication code', { selector: 'input' })).toBeTruthy();
	});

	it('goes back to the password when the challenge expired, saying so', async () => {
		await passwordStep();
		mock.verifySecondFactor.mockResolvedValue({
			ok: false,
			failure: { code: 'mfa_challenge_expired', status: 401, message: 'Sign in again.', fields: [] }
		});
		await type('Authentication code', '123456');
		await fireEvent.click(screen.getByRole('button', { name: 'Continue' }));

		const password = await screen.findByLabelText('Password', { selector: 'input' });
		expect(document.activeElement).toBe(password);
		expect(screen.getByRole('alert').textContent).toContain('Sign in again.');
		expect((screen.getByLabelText('Username', { selector: 'input' }) as HTMLInputElement).value).toBe('alice');
	});

	it('offers "Start over" back to the password', async () => {
		await passwordStep();
		await fireEvent.click(screen.getByRole('button', { name: 'Start over' }));
		expect(document.activeElement).toBe(screen.getByLabelText('Password', { selector: 'input' }));
	});
});

describe('LoginForm, passkeys', () => {
	function browserWithPasskeys({ conditional = false } = {}) {
		vi.stubGlobal('isSecureContext', true);
		vi.stubGlobal(
			'PublicKeyCredential',
			Object.assign(function PublicKeyCredential() {}, { isConditionalMediationAvailable: async () => conditional })
		);
		vi.stubGlobal('navigator', { ...navigator, credentials: { create: vi.fn(), get: vi.fn() } });
	}

	it('offers no passkey button where the browser has no WebAuthn', () => {
		render(LoginForm);
		expect(screen.queryByRole('button', { name: 'Sign in with a passkey' })).toBeNull();
	});

	it('signs in with any passkey of this site: no username needed', async () => {
		browserWithPasskeys();
		const onsuccess = vi.fn();
		render(LoginForm, { onsuccess });
		const button = screen.getByRole('button', { name: 'Sign in with a passkey' });
		expect(button.getAttribute('aria-describedby')).toBe('passkey-hint');
		expect(document.getElementById('passkey-hint')?.textContent).toMatch(/No username or password needed/);

		const pending = deferred<Result>();
		mock.loginWithPasskey.mockReturnValue(pending.promise);
		await fireEvent.click(button);
		await vi.waitFor(() => expect(mock.loginWithPasskey).toHaveBeenCalledWith(expect.any(Function)));
		expect(screen.getByLabelText('Username', { selector: 'input' }).getAttribute('aria-invalid')).not.toBe('true');
		expect(screen.getByRole('button', { name: 'Waiting for your passkey…' }).hasAttribute('disabled')).toBe(true);
		expect(screen.getByRole('button', { name: 'Log in' }).hasAttribute('disabled')).toBe(true);

		pending.resolve({ ok: true, user });
		await vi.waitFor(() => expect(onsuccess).toHaveBeenCalled());
	});

	it('offers passkeys in the username field’s autofill where the browser can, and stops asking for a password sign-in', async () => {
		browserWithPasskeys({ conditional: true });
		const quiet = deferred<Result>();
		mock.loginWithPasskey.mockReturnValueOnce(quiet.promise);
		render(LoginForm);
		expect(screen.getByLabelText('Username', { selector: 'input' }).getAttribute('autocomplete')).toBe('username webauthn');
		// The quiet request starts with the form.
		await vi.waitFor(() => expect(mock.loginWithPasskey).toHaveBeenCalledTimes(1));

		// A password sign-in waits for the quiet request to end; an aborted one says nothing.
		mock.login.mockResolvedValue({
			ok: false,
			failure: { code: 'invalid_credentials', status: 401, message: 'Invalid username or password', fields: [] }
		});
		await type('Username', 'alice');
		await type('Password', 'wrong');
		await fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
		await tick();
		expect(mock.login).not.toHaveBeenCalled();
		const again = deferred<Result>();
		mock.loginWithPasskey.mockReturnValueOnce(again.promise);
		quiet.resolve({ ok: false, failure: { message: 'The passkey request was cancelled.', fields: [] }, cancelled: true } as Result);
		await vi.waitFor(() => expect(mock.login).toHaveBeenCalled());
		// Refused: the quiet request starts again, and only the password's error shows.
		await vi.waitFor(() => expect(mock.loginWithPasskey).toHaveBeenCalledTimes(2));
		expect(screen.getAllByRole('alert').map((a) => a.textContent).join(' ')).not.toMatch(/cancelled/);
	});

	it('the quiet request says nothing when it never reached a passkey, and says why when the chosen one was refused', async () => {
		browserWithPasskeys({ conditional: true });
		const { usePasskey } = await import('$lib/webauthn');
		const offline = { ok: false as const, failure: { message: 'Can’t reach the server.', fields: [] } };
		mock.loginWithPasskey.mockResolvedValueOnce(offline);
		const { unmount } = render(LoginForm);
		await vi.waitFor(() => expect(mock.loginWithPasskey).toHaveBeenCalledTimes(1));
		await tick();
		expect(screen.queryAllByRole('alert').map((a) => a.textContent).join('')).toBe('');
		unmount();

		vi.mocked(usePasskey).mockResolvedValue({ ok: true, credential: { id: 'BAU' } });
		mock.loginWithPasskey.mockImplementationOnce(async (use) => {
			await (use as (options: unknown) => Promise<unknown>)({ publicKey: {} });
			return { ok: false, failure: { code: 'invalid_passkey', status: 401, message: 'The passkey could not be verified.', fields: [] } };
		});
		render(LoginForm);
		await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain('The passkey could not be verified.'));
		expect(usePasskey).toHaveBeenCalledWith({ publicKey: {} }, expect.objectContaining({ mediation: 'conditional' }));
		// Not asked again by itself (an authenticator that answers on its own would loop); using the field asks again.
		expect(mock.loginWithPasskey).toHaveBeenCalledTimes(2);
		mock.loginWithPasskey.mockReturnValue(new Promise(() => {}));
		await fireEvent.focus(screen.getByLabelText('Username', { selector: 'input' }));
		await vi.waitFor(() => expect(mock.loginWithPasskey).toHaveBeenCalledTimes(3));
	});

	it('shows why a passkey sign-in failed', async () => {
		browserWithPasskeys();
		mock.loginWithPasskey.mockResolvedValue({
			ok: false,
			failure: { code: 'invalid_passkey', status: 401, message: 'That passkey did not sign you in.', fields: [] }
		});
		render(LoginForm);
		await fireEvent.click(screen.getByRole('button', { name: 'Sign in with a passkey' }));
		await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain('That passkey did not sign you in.'));
	});
});

import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Resource } from '$lib/resource.svelte';
import { VALID_CODE } from '$lib/test/fake-api';

// The sections against the in-memory API: the app's `api` is a client of the fake server.
const fake = vi.hoisted(() => ({ server: null as unknown as import('$lib/test/fake-api').FakeApi }));
vi.mock('$lib/stores/auth', async () => {
	const { createFakeApi, BASE_URL } = await import('$lib/test/fake-api');
	const { createApi } = await import('$lib/api/client');
	fake.server = createFakeApi();
	return { api: createApi({ baseUrl: BASE_URL, fetch: fake.server.fetch, locks: null, clock: null }) };
});
const ceremony = vi.hoisted(() => ({ createPasskey: vi.fn() }));
vi.mock('$lib/webauthn', () => ceremony);

import { api } from '$lib/stores/auth';
import { listPasskeys, mfaStatus } from '$lib/api/mfa';
import ChangePasswordForm from './ChangePasswordForm.svelte';
import PasskeySection from './PasskeySection.svelte';
import TwoFactorSection from './TwoFactorSection.svelte';

const password = 'correct horse battery';

beforeEach(async () => {
	const server = fake.server;
	server.users = [
		{ id: 'u1', username: 'alice', password, created_at: '2026-11-29T12:00:00Z', passkeys: [] }
	];
	server.session = 'fresh';
	server.signedInAs = 'alice';
	server.pendingTotp = false;
	server.calls.length = 0;
	vi.unstubAllGlobals();
	ceremony.createPasskey.mockReset();
});

async function type(label: string, value: string, within: HTMLElement = document.body) {
	const input = screen.getAllByLabelText(label, { selector: 'input' }).find((el) => within.contains(el))!;
	await fireEvent.input(input, { target: { value } });
	return input as HTMLInputElement;
}

async function twoFactorSection() {
	const mfa = new Resource(() => mfaStatus(api));
	await mfa.refresh();
	const onchange = vi.fn(() => mfa.refresh());
	render(TwoFactorSection, { mfa, username: 'alice', onchange });
	return { region: screen.getByRole('region', { name: 'Two-factor authentication' }), onchange };
}

describe('TwoFactorSection', () => {
	it('sets up an app: password, QR code and key, a code, then the recovery codes shown once', async () => {
		const writeText = vi.fn(async () => {});
		vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
		const { region, onchange } = await twoFactorSection();
		expect(within(region).getByTestId('two-factor-state').textContent).toMatch(/Off/);

		await fireEvent.click(within(region).getByRole('button', { name: 'Set up an authenticator app' }));
		const field = screen.getByLabelText('Password', { selector: 'input' });
		expect(document.activeElement).toBe(field);

		await type('Password', 'not it');
		await fireEvent.click(within(region).getByRole('button', { name: 'Continue' }));
		await vi.waitFor(() => expect(field.getAttribute('aria-invalid')).toBe('true'));

		await type('Password', password);
		await fireEvent.click(within(region).getByRole('button', { name: 'Continue' }));
		const qr = await within(region).findByRole('img', { name: /QR code for adding your Latchkey account \(alice\)/ });
		expect(qr.querySelector('path')?.getAttribute('d')).toMatch(/^M0 0h7v1h-7z/);
		expect(within(region).getByTestId('totp-secret').textContent?.trim()).toBe('JBSW Y3DP EHPK 3PXP');
		expect(document.activeElement).toBe(within(region).getByRole('heading', { name: 'Set up your authenticator app' }));

		const code = await type('Code from the app', '000000');
		await fireEvent.click(within(region).getByRole('button', { name: 'Turn on' }));
		await vi.waitFor(() => expect(code.getAttribute('aria-invalid')).toBe('true'));
		expect(document.getElementById('totp-code-error')?.textContent).toBe('That code is not right.');

		await type('Code from the app', VALID_CODE);
		await fireEvent.click(within(region).getByRole('button', { name: 'Turn on' }));
		const codes = await within(region).findAllByTestId('recovery-code');
		expect(codes).toHaveLength(10);
		expect(document.activeElement).toBe(within(region).getByRole('heading', { name: 'Save your recovery codes' }));
		expect(within(region).getByRole('list', { name: 'Save your recovery codes' })).toBeTruthy();
		expect(onchange).toHaveBeenCalled();

		await fireEvent.click(within(region).getByRole('button', { name: 'Copy' }));
		const panel = within(region).getByTestId('recovery-codes');
		await vi.waitFor(() => expect(within(panel).getByRole('status').textContent).toMatch(/Copied the ten codes/));
		expect(writeText).toHaveBeenCalledWith(codes.map((c) => c.textContent).join('\n'));

		await fireEvent.click(within(region).getByRole('button', { name: 'I’ve saved them' }));
		expect(within(region).queryAllByTestId('recovery-code')).toHaveLength(0);
		await vi.waitFor(() => expect(within(region).getByTestId('recovery-codes-left').textContent).toBe('10 recovery codes left.'));
		expect(within(region).getByTestId('two-factor-state').textContent).toMatch(/On/);
	});

	it('downloads the recovery codes as a text file', async () => {
		const urls: Blob[] = [];
		vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: (blob: Blob) => (urls.push(blob), 'blob:codes'), revokeObjectURL: () => {} }));
		const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
		const { region } = await twoFactorSection();
		await fireEvent.click(within(region).getByRole('button', { name: 'Set up an authenticator app' }));
		await type('Password', password);
		await fireEvent.click(within(region).getByRole('button', { name: 'Continue' }));
		await type('Code from the app', VALID_CODE, await within(region).findByTestId('totp-setup'));
		await fireEvent.click(within(region).getByRole('button', { name: 'Turn on' }));
		const codes = await within(region).findAllByTestId('recovery-code');

		await fireEvent.click(within(region).getByRole('button', { name: 'Download' }));
		expect(click).toHaveBeenCalledOnce();
		expect(click.mock.contexts[0]).toMatchObject({ download: 'latchkey-recovery-codes-alice.txt', href: 'blob:codes' });
		const text = await urls[0].text();
		expect(text.split('\n').filter((line) => codes.some((c) => c.textContent === line))).toHaveLength(10);
		expect(within(within(region).getByTestId('recovery-codes')).getByRole('status').textContent).toMatch(
			/Saved as latchkey-recovery-codes-alice\.txt/
		);
		click.mockRestore();
	});

	it('turns off with the password and a code or a recovery code; a wrong code shows on its field', async () => {
		fake.server.users[0].totp = { recoveryCodes: ['rc-one', 'rc-two'] };
		const { region } = await twoFactorSection();
		expect(within(region).getByTestId('recovery-codes-left').textContent).toBe(
			'2 recovery codes left: replace them before they run out.'
		);

		await fireEvent.click(within(region).getByRole('button', { name: 'Turn off…' }));
		const dialog = screen.getByRole('dialog', { name: 'Turn off two-factor authentication' });
		expect(within(dialog).getByText(/recovery codes stop working/)).toBeTruthy();
		const form = within(dialog).getByRole('form', { name: 'Turn off two-factor authentication' });
		await type('Password', password, form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Turn off' }));
		expect(document.getElementById('disable-totp-code-error')?.textContent).toBe('Enter the code from your authenticator app.');

		const code = await type('Authentication code', '111111', form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Turn off' }));
		await vi.waitFor(() => expect(code.getAttribute('aria-invalid')).toBe('true'));
		expect(document.activeElement).toBe(code);

		await fireEvent.click(within(form).getByRole('button', { name: 'Use a recovery code' }));
		await type('Recovery code', 'rc-two', form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Turn off' }));
		await vi.waitFor(() => expect(within(region).getByRole('status').textContent).toMatch(/Two-factor authentication is off/));
		expect(fake.server.users[0].totp).toBeUndefined();
		expect(screen.queryByRole('dialog')).toBeNull();
	});

	it('replaces the recovery codes and shows the new ones once', async () => {
		fake.server.users[0].totp = { recoveryCodes: ['rc-one'] };
		const { region } = await twoFactorSection();
		await fireEvent.click(within(region).getByRole('button', { name: 'Replace recovery codes' }));
		const form = within(region).getByRole('form', { name: 'Replace recovery codes' });
		await type('Password', password, form);
		await type('Authentication code', VALID_CODE, form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Replace recovery codes' }));
		expect(await within(region).findAllByTestId('recovery-code')).toHaveLength(10);
		expect(within(region).getByText(/Your old recovery codes no longer work\./)).toBeTruthy();
	});
});

describe('step-up on the other forms', () => {
	it('asks for a code when the server says two-factor authentication is on, though the page thought not', async () => {
		fake.server.users[0].totp = { recoveryCodes: [] };
		const onstale = vi.fn();
		render(ChangePasswordForm, { username: 'alice', onstale });
		await type('Current password', password);
		await type('New password', 'a much better password 1987');
		expect(screen.queryByLabelText('Authentication code', { selector: 'input' })).toBeNull();
		await fireEvent.click(screen.getByRole('button', { name: 'Change password' }));

		const code = await screen.findByLabelText('Authentication code', { selector: 'input' });
		expect(document.activeElement).toBe(code);
		expect(onstale).toHaveBeenCalledOnce();
		expect(document.getElementById('password-change-code-error')?.textContent).toMatch(/enter a code too/);

		await type('Authentication code', VALID_CODE);
		await fireEvent.click(screen.getByRole('button', { name: 'Change password' }));
		await vi.waitFor(() => expect(screen.getByRole('status').textContent).toMatch(/Your password was changed/));
		expect(fake.server.bodies.at(-1)).toMatchObject({ code: VALID_CODE });
	});
});

describe('PasskeySection', () => {
	function browserWithPasskeys() {
		vi.stubGlobal('isSecureContext', true);
		vi.stubGlobal('PublicKeyCredential', function PublicKeyCredential() {});
		vi.stubGlobal('navigator', { ...navigator, credentials: { create: vi.fn(), get: vi.fn() } });
	}

	async function section(totpEnabled = false) {
		const passkeys = new Resource(() => listPasskeys(api));
		await passkeys.refresh();
		const onchange = vi.fn(() => passkeys.refresh());
		render(PasskeySection, { passkeys, username: 'alice', totpEnabled, now: Date.parse('2026-11-29T12:05:00Z'), onchange });
		return screen.getByRole('region', { name: 'Passkeys' });
	}

	it('says so where the browser cannot make passkeys', async () => {
		const region = await section();
		expect(within(region).getByText('No passkeys yet.')).toBeTruthy();
		expect(within(region).getByText('This browser can’t create passkeys.')).toBeTruthy();
	});

	it('adds a passkey: a name and the password, then the browser’s ceremony', async () => {
		browserWithPasskeys();
		ceremony.createPasskey.mockResolvedValue({ ok: true, credential: { id: 'BAU' } });
		const region = await section();
		await fireEvent.click(within(region).getByRole('button', { name: 'Add a passkey' }));
		const form = within(region).getByRole('form', { name: 'Add a passkey' });
		expect(document.activeElement).toBe(within(form).getByLabelText('Name', { selector: 'input' }));

		await type('Password', password, form);
		await type('Name', 'x'.repeat(65), form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Add passkey' }));
		expect(document.getElementById('passkey-name-error')?.textContent).toMatch(/at most 64/);
		expect(ceremony.createPasskey).not.toHaveBeenCalled();

		await type('Name', ' Work laptop ', form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Add passkey' }));
		await vi.waitFor(() => expect(within(region).getByRole('status').textContent).toMatch(/Added the passkey “Work laptop”/));
		expect(ceremony.createPasskey).toHaveBeenCalledWith({ publicKey: { challenge: 'AQID' } });
		const item = await within(region).findByTestId('passkey');
		expect(item.textContent?.replace(/\s+/g, ' ')).toMatch(/^Work laptop Added 5 minutes ago \(.*2026.*\) Not used yet Rename Remove…$/);
		expect(document.activeElement).toBe(within(region).getByRole('heading', { name: 'Passkeys' }));
	});

	it('without a name, the server’s suggestion for this device is offered for keeping or changing; a refused name shows on the field', async () => {
		browserWithPasskeys();
		ceremony.createPasskey.mockResolvedValue({ ok: true, credential: { id: 'BAU' } });
		const region = await section();
		await fireEvent.click(within(region).getByRole('button', { name: 'Add a passkey' }));
		const form = within(region).getByRole('form', { name: 'Add a passkey' });
		await type('Password', password, form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Add passkey' }));
		await vi.waitFor(() => expect(within(region).getByRole('status').textContent).toMatch(/Added the passkey “Chrome 156 on Linux”. Keep this name/));
		const finish = fake.server.bodies.findLast((b) => !!b && typeof b === 'object' && 'credential' in b);
		expect(finish).toEqual({ ceremony: 'c-1', credential: { id: 'BAU' } });

		const rename = await within(region).findByRole('form', { name: 'Rename the passkey Chrome 156 on Linux' });
		const field = within(rename).getByLabelText('New name', { selector: 'input' }) as HTMLInputElement;
		expect(field.value).toBe('Chrome 156 on Linux');
		expect(document.activeElement).toBe(field);

		await type('New name', 'Work\u202Elaptop', rename);
		await fireEvent.click(within(rename).getByRole('button', { name: 'Save name' }));
		await vi.waitFor(() => expect(field.getAttribute('aria-invalid')).toBe('true'));
		expect(document.getElementById(field.getAttribute('aria-describedby')!.split(' ')[0])?.textContent).toMatch(
			/control or invisible formatting characters/
		);
		expect(document.activeElement).toBe(field);

		await type('New name', ' Work laptop ', rename);
		await fireEvent.click(within(rename).getByRole('button', { name: 'Save name' }));
		await vi.waitFor(() => expect(within(region).getByRole('status').textContent).toBe('Renamed the passkey to “Work laptop”.'));
		expect(fake.server.bodies.filter((b) => !!b && typeof b === 'object' && 'name' in b).at(-1)).toEqual({ name: 'Work laptop' });
		expect(within(region).queryByRole('form', { name: /^Rename/ })).toBeNull();
		expect(document.activeElement).toBe(within(region).getByRole('button', { name: 'Rename' }));
	});

	it('shows why the browser made no passkey, and keeps the form', async () => {
		browserWithPasskeys();
		ceremony.createPasskey.mockResolvedValue({ ok: false, failure: { message: 'No passkey was added: the request was cancelled or timed out.', fields: [] } });
		const region = await section();
		await fireEvent.click(within(region).getByRole('button', { name: 'Add a passkey' }));
		const form = within(region).getByRole('form', { name: 'Add a passkey' });
		await type('Name', 'Phone', form);
		await type('Password', password, form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Add passkey' }));
		await vi.waitFor(() => expect(within(form).getByRole('alert').textContent).toMatch(/cancelled or timed out/));
	});

	it('removes a passkey with the password and a code when two-factor authentication is on', async () => {
		fake.server.users[0].totp = { recoveryCodes: [] };
		fake.server.users[0].passkeys = [
			{ id: 'k1', name: 'Phone', created_at: '2026-11-01T12:00:00Z', last_used_at: '2026-11-29T11:00:00Z' }
		];
		const region = await section(true);
		const item = within(region).getByTestId('passkey');
		expect(item.textContent?.replace(/\s+/g, ' ')).toMatch(/^Phone Added 4 weeks ago \(.*2026.*\) Last used 1 hour ago \(.*\) Rename Remove…$/);
		const remove = within(item).getByRole('button', { name: 'Remove…' });
		expect(remove.getAttribute('aria-describedby')).toBe('passkey-k1');

		await fireEvent.click(remove);
		const dialog = screen.getByRole('dialog', { name: 'Remove the passkey “Phone”?' });
		const form = within(dialog).getByRole('form', { name: 'Remove the passkey Phone' });
		await type('Password', password, form);
		await type('Authentication code', VALID_CODE, form);
		await fireEvent.click(within(form).getByRole('button', { name: 'Remove passkey' }));
		await vi.waitFor(() => expect(within(region).getByRole('status').textContent).toBe('Removed the passkey “Phone”.'));
		await vi.waitFor(() => expect(within(region).getByText('No passkeys yet.')).toBeTruthy());
	});
});

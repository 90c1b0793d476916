import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { drawQr } from '../../src/lib/qr';
import { stepAt, totp } from '../../src/lib/test/totp';
import {
	addVirtualAuthenticator,
	credentialRequests,
	logIn,
	openSecurity,
	passkeysOf,
	PASSWORD,
	recordCredentialRequests,
	saveRecoveryCodes,
	setUpAuthenticator,
	signUpViaApi,
	twoFactorOf,
	uniqueUsername,
	withoutPasskeyAutofill
} from './helpers';

// Second factors against the real backend: an authenticator app (codes computed here, RFC 6238), its
// recovery codes, and passkeys made by a virtual authenticator in Chromium.

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

async function logOut(page: Page) {
	await nav(page).getByRole('button', { name: 'Log out' }).click();
	await expect(nav(page).getByRole('link', { name: 'Log in' })).toBeVisible();
}

/** The password step of a sign-in, up to the code step. */
async function passwordStep(page: Page, username: string) {
	await page.goto('/login');
	await logIn(page, username);
	await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
	await expect(page.getByLabel('Authentication code')).toBeFocused();
}

async function enter(page: Page, kind: 'Authentication code' | 'Recovery code', value: string) {
	if (kind === 'Recovery code' && !(await page.getByLabel('Recovery code').isVisible())) {
		await page.getByRole('button', { name: 'Use a recovery code' }).click();
	}
	await page.getByLabel(kind).fill(value);
	await page.getByRole('button', { name: 'Continue' }).click();
}

async function expectSignedIn(page: Page, username: string) {
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
}

async function expectCodeRefused(page: Page, kind: 'Authentication code' | 'Recovery code') {
	await expect(page.getByLabel(kind)).toHaveAttribute('aria-invalid', 'true');
	await expect(page.getByLabel(kind)).toHaveAccessibleDescription(/\S/);
	await expect(page.getByLabel(kind)).toBeFocused();
	await expect(nav(page).getByRole('link', { name: 'Log in' })).toBeVisible();
}

test('an authenticator app: set up, sign in with its code, a code and a recovery code each work once', async ({
	page,
	context
}) => {
	const username = uniqueUsername('totp');
	await signUpViaApi(page, username);
	await openSecurity(page);
	const section = twoFactorOf(page);
	await expect(section.getByTestId('two-factor-state')).toContainText('Off');

	// Wrong codes count toward the sign-in throttle like wrong passwords (five in a row, then waits):
	// this test makes four, and the setup's own mistakes are the next test's.
	const { app, codes } = await setUpAuthenticator(page);
	expect(new Set(codes).size).toBe(10);
	await expect(section.getByRole('heading', { name: 'Save your recovery codes' })).toBeFocused();

	await test.step('the recovery codes: Copy puts them on the clipboard, Download saves them as text', async () => {
		await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
		await section.getByRole('button', { name: 'Copy', exact: true }).click();
		await expect(section.getByText('Copied the ten codes to the clipboard.')).toBeVisible();
		expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join('\n'));

		const [download] = await Promise.all([
			page.waitForEvent('download'),
			section.getByRole('button', { name: 'Download' }).click()
		]);
		expect(download.suggestedFilename()).toBe(`latchkey-recovery-codes-${username}.txt`);
		const lines = readFileSync((await download.path())!, 'utf8').split('\n');
		expect(lines[0]).toBe(`Latchkey recovery codes for ${username}`);
		for (const code of codes) expect(lines).toContain(code);

		await saveRecoveryCodes(page);
		await expect(section.getByTestId('recovery-code')).toHaveCount(0);
		await expect(section.getByTestId('two-factor-state')).toContainText('On');
		await expect(section.getByTestId('recovery-codes-left')).toHaveText('10 recovery codes left.');
	});

	let used = '';
	await test.step('sign-in asks for a code after the password; a wrong one is refused, the right one signs in', async () => {
		await logOut(page);
		await passwordStep(page, username);
		await enter(page, 'Authentication code', totp(app.secret, stepAt(Date.now()) + 10));
		await expectCodeRefused(page, 'Authentication code');
		used = await app.next();
		await enter(page, 'Authentication code', used);
		await expectSignedIn(page, username);
	});

	await test.step('the same code again is refused (replay)', async () => {
		await logOut(page);
		await passwordStep(page, username);
		await enter(page, 'Authentication code', used);
		await expectCodeRefused(page, 'Authentication code');
	});

	await test.step('a recovery code signs in once', async () => {
		await enter(page, 'Recovery code', codes[0]);
		await expectSignedIn(page, username);
		await logOut(page);
		await passwordStep(page, username);
		await enter(page, 'Recovery code', codes[0]);
		await expectCodeRefused(page, 'Recovery code');
		await enter(page, 'Recovery code', codes[1]);
		await expectSignedIn(page, username);
		await openSecurity(page);
		await expect(section.getByTestId('recovery-codes-left')).toHaveText('8 recovery codes left.');
	});

	let fresh: string[] = [];
	await test.step('replacing the recovery codes (with one of them) makes the old ones stop working', async () => {
		await section.getByRole('button', { name: 'Replace recovery codes' }).click();
		const form = section.getByRole('form', { name: 'Replace recovery codes' });
		await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await form.getByRole('button', { name: 'Use a recovery code' }).click();
		await form.getByLabel('Recovery code').fill(codes[2]);
		await form.getByRole('button', { name: 'Replace recovery codes' }).click();
		await expect(section.getByTestId('recovery-code')).toHaveCount(10);
		fresh = await section.getByTestId('recovery-code').allTextContents();
		expect(fresh.filter((code) => codes.includes(code))).toEqual([]);
		await saveRecoveryCodes(page);
	});

	await test.step('turning it off needs the password and a current second factor', async () => {
		await section.getByRole('button', { name: 'Turn off…' }).click();
		const dialog = page.getByRole('dialog', { name: 'Turn off two-factor authentication' });
		await expect(dialog.getByLabel('Password', { exact: true })).toBeFocused();
		const form = dialog.getByRole('form', { name: 'Turn off two-factor authentication' });
		await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await form.getByRole('button', { name: 'Use a recovery code' }).click();
		const recovery = form.getByLabel('Recovery code');
		await recovery.fill(codes[3]);
		await form.getByRole('button', { name: 'Turn off' }).click();
		await expect(recovery).toHaveAttribute('aria-invalid', 'true');
		await recovery.fill(fresh[0]);
		await form.getByRole('button', { name: 'Turn off' }).click();
		await expect(dialog).toBeHidden();
		await expect(section.getByRole('status')).toContainText('Two-factor authentication is off');
		await expect(section.getByTestId('two-factor-state')).toContainText('Off');

		await logOut(page);
		await page.goto('/login');
		await logIn(page, username);
		await expectSignedIn(page, username);
	});
});

test('setting up refuses a wrong password and a wrong code; the QR code and the key are the server’s URI', async ({ page }) => {
	await signUpViaApi(page, uniqueUsername('setup'));
	await openSecurity(page);
	const section = twoFactorOf(page);
	await section.getByRole('button', { name: 'Set up an authenticator app' }).click();
	const password = section.getByLabel('Password', { exact: true });
	await expect(password).toBeFocused();
	await password.fill('not my password');
	await section.getByRole('button', { name: 'Continue' }).click();
	await expect(password).toHaveAttribute('aria-invalid', 'true');
	await expect(password).toBeFocused();

	await password.fill(PASSWORD);
	const [answer] = await Promise.all([
		page.waitForResponse((r) => new URL(r.url()).pathname === '/mfa/totp' && r.request().method() === 'POST'),
		section.getByRole('button', { name: 'Continue' }).click()
	]);
	const { secret, otpauth_uri } = await answer.json();
	await expect(section.getByRole('heading', { name: 'Set up your authenticator app' })).toBeFocused();
	const qr = section.getByRole('img', { name: /^QR code for adding your Latchkey account/ });
	await expect(qr.locator('path')).toHaveAttribute('d', drawQr(otpauth_uri).path);
	expect((await section.getByTestId('totp-secret').textContent())!.replace(/\s+/g, '')).toBe(secret);
	expect(new URL(otpauth_uri).searchParams.get('secret')).toBe(secret);

	const code = section.getByLabel('Code from the app');
	await code.fill(totp(secret, stepAt(Date.now()) + 10));
	await section.getByRole('button', { name: 'Turn on' }).click();
	await expect(code).toHaveAttribute('aria-invalid', 'true');
	await expect(code).toBeFocused();
	await code.fill(totp(secret));
	await section.getByRole('button', { name: 'Turn on' }).click();
	await expect(section.getByTestId('recovery-code')).toHaveCount(10);
});

test('with two-factor authentication on, changing the password asks for a code too', async ({ page }) => {
	const username = uniqueUsername('stepup');
	await signUpViaApi(page, username);
	await openSecurity(page);
	const { codes } = await setUpAuthenticator(page);
	await saveRecoveryCodes(page);

	const form = page.getByRole('region', { name: 'Change password' });
	await form.getByLabel('Current password').fill(PASSWORD);
	await form.getByLabel('New password').fill('lantern orchard velvet 1987');
	await form.getByRole('button', { name: 'Use a recovery code' }).click();
	await form.getByRole('button', { name: 'Change password' }).click();
	await expect(form.getByLabel('Recovery code')).toHaveAttribute('aria-invalid', 'true');
	await form.getByLabel('Recovery code').fill(codes[0]);
	await form.getByRole('button', { name: 'Change password' }).click();
	await expect(form.getByRole('status')).toContainText('Your password was changed');
});

test('a passkey: added on the account page, then signing in with it alone, even with two-factor authentication on', async ({
	page
}) => {
	// The button is under test here: the username field's autofill (which this authenticator would answer at
	// once) is in integrity.spec.ts.
	await withoutPasskeyAutofill(page);
	const authenticator = await addVirtualAuthenticator(page);
	const username = uniqueUsername('passkey');
	await signUpViaApi(page, username);
	await openSecurity(page);
	const section = passkeysOf(page);
	await expect(section.getByText('No passkeys yet.')).toBeVisible();

	await test.step('add one: a name and the password, then the authenticator makes it', async () => {
		await section.getByRole('button', { name: 'Add a passkey' }).click();
		const form = section.getByRole('form', { name: 'Add a passkey' });
		await expect(form.getByLabel('Name')).toBeFocused();
		await form.getByLabel('Name').fill('Test laptop');
		await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await form.getByRole('button', { name: 'Add passkey' }).click();
		await expect(section.getByRole('status')).toContainText('Added the passkey “Test laptop”');
		const item = section.getByTestId('passkey');
		await expect(item).toHaveCount(1);
		await expect(item).toContainText('Test laptop');
		await expect(item).toContainText('Not used yet');
		const stored = await authenticator.credentials();
		expect(stored).toHaveLength(1);
		expect(stored[0].rpId).toBe('localhost');
	});

	await test.step('turn on two-factor authentication too', async () => {
		await setUpAuthenticator(page);
		await saveRecoveryCodes(page);
	});

	await test.step('sign out, then sign in with the passkey: no username, no password, no code', async () => {
		await logOut(page);
		await page.goto('/login');
		await expect(page.getByLabel('Username')).toHaveValue('');
		await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
		await expectSignedIn(page, username);
		await openSecurity(page);
		await expect(section.getByTestId('passkey')).toContainText(/Last used (just now|1 minute ago)/);
		expect((await authenticator.credentials())[0].signCount).toBeGreaterThan(0);
	});

	await test.step('removing it needs the password and a code; then it signs no one in', async () => {
		await section.getByRole('button', { name: 'Remove…' }).click();
		const form = page.getByRole('dialog', { name: 'Remove the passkey “Test laptop”?' }).getByRole('form');
		await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await form.getByRole('button', { name: 'Remove passkey' }).click();
		await expect(form.getByLabel('Authentication code')).toHaveAttribute('aria-invalid', 'true');
		await form.getByRole('button', { name: 'Cancel' }).click();
		await expect(section.getByTestId('passkey')).toHaveCount(1);
	});
});

test('a passkey removed on the account page no longer signs in, from the autofill or the button', { tag: '@full-chromium' }, async ({ page }) => {
	await recordCredentialRequests(page);
	await addVirtualAuthenticator(page);
	const username = uniqueUsername('pkgone');
	await signUpViaApi(page, username);
	await openSecurity(page);
	const section = passkeysOf(page);
	await section.getByRole('button', { name: 'Add a passkey' }).click();
	const add = section.getByRole('form', { name: 'Add a passkey' });
	await add.getByLabel('Name').fill('Phone');
	await add.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await add.getByRole('button', { name: 'Add passkey' }).click();
	await expect(section.getByTestId('passkey')).toHaveCount(1);

	await section.getByRole('button', { name: 'Remove…' }).click();
	const remove = page.getByRole('dialog', { name: 'Remove the passkey “Phone”?' }).getByRole('form', { name: 'Remove the passkey Phone' });
	await remove.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await remove.getByRole('button', { name: 'Remove passkey' }).click();
	await expect(section.getByRole('status')).toHaveText('Removed the passkey “Phone”.');
	await expect(section.getByText('No passkeys yet.')).toBeVisible();

	// The authenticator still holds it, but the server no longer knows it. The autofill's quiet request gets it
	// at once (this authenticator answers by itself): refused, said, and not asked again by itself.
	await logOut(page);
	await page.goto('/login');
	await expect(page.getByRole('alert')).toContainText('The passkey could not be verified');
	await page.waitForTimeout(1_000);
	expect((await credentialRequests(page)).filter((r) => r.mediation === 'conditional')).toHaveLength(1);
	await expect(nav(page).getByRole('link', { name: 'Log in' })).toBeVisible();

	await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
	await expect.poll(async () => (await credentialRequests(page)).filter((r) => r.mediation === null).length).toBe(1);
	await expect(page.getByRole('alert')).toContainText('The passkey could not be verified');
	await expect(nav(page).getByRole('link', { name: 'Log in' })).toBeVisible();
});

import { expect, test, type Page } from '@playwright/test';
import {
	logIn,
	logOutFromHeader,
	openSecurity,
	PASSWORD,
	saveRecoveryCodes,
	setUpAuthenticator,
	signUpViaApi,
	uniqueUsername
} from './helpers';

// Account recovery against the real backend, which mails through the test's SMTP sink (tests/e2e/mail-sink.mjs).
const NEW_PASSWORD = 'a brand new horse staple';

interface Mail {
	to: string[];
	text: string;
}

async function mailsTo(address: string): Promise<Mail[]> {
	const response = await fetch(`${process.env.E2E_MAIL_URL}/messages?to=${encodeURIComponent(address)}`);
	return (await response.json()) as Mail[];
}

/** The newest link to `path` (with its `#token=`) mailed to `address`, waiting for the outbox to send it. */
async function linkMailed(address: string, path: '/reset-password' | '/verify-email', after = 0): Promise<string> {
	const pattern = new RegExp(`https?://[^\\s"<]+${path}#token=[\\w-]+`, 'g');
	let link: string | undefined;
	await expect
		.poll(
			async () => {
				const links = (await mailsTo(address)).slice(after).flatMap((mail) => mail.text.match(pattern) ?? []);
				link = links.at(-1);
				return !!link;
			},
			{ timeout: 20_000 }
		)
		.toBe(true);
	return link!;
}

const emailOf = (page: Page) => page.getByRole('region', { name: 'Email address' });
const recoveryKeyOf = (page: Page) => page.getByRole('region', { name: 'Recovery key' });
const logOut = async (page: Page) => {
	await logOutFromHeader(page);
};

/** Sets the address on the security page (which must be open) and follows the link mailed to it. */
async function addVerifiedEmail(page: Page, address: string) {
	const section = emailOf(page);
	await expect(section.getByTestId('email-state')).toContainText('No email address yet');
	await section.getByRole('button', { name: 'Add email address' }).click();
	await section.getByRole('textbox', { name: 'Email address' }).fill(address);
	await section.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await section.getByRole('button', { name: 'Send confirmation link' }).click();
	await expect(section.getByRole('status')).toContainText(`A link is on its way to ${address}`);
	await expect(section.getByTestId('email-state')).toContainText('Waiting for confirmation');

	const link = await linkMailed(address, '/verify-email');
	await page.goto(link);
	await expect(page.getByTestId('verify-email')).toContainText(`${address} is confirmed`);
	// The token leaves the address bar.
	expect(new URL(page.url()).hash).toBe('');
	await page.getByRole('link', { name: 'Go to Sign-in & security' }).click();
	await expect(emailOf(page).getByTestId('email-state')).toContainText('Confirmed');
}

async function setNewPassword(page: Page, password = NEW_PASSWORD) {
	await page.getByLabel('New password').fill(password);
	await page.getByRole('button', { name: 'Set new password' }).click();
}

async function expectSignInWorksOnlyWithNewPassword(page: Page, username: string) {
	await expect(page).toHaveURL('/login?notice=password-reset');
	await expect(page.getByTestId('password-reset-notice')).toContainText('Your password has been changed');
	await logIn(page, username, PASSWORD);
	await expect(page.getByRole('alert')).toContainText('Invalid username or password');
	await logIn(page, username, NEW_PASSWORD);
	await expect(page).toHaveURL('/');
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
}

test('forgot password: the mailed link resets the password once, and the old one stops working', async ({ page }) => {
	const username = uniqueUsername('mail');
	const address = `${username}@example.test`;
	await signUpViaApi(page, username);
	await openSecurity(page);
	await addVerifiedEmail(page, address);
	await logOut(page);

	await page.goto('/login');
	await page.getByRole('link', { name: 'Forgot password?' }).click();
	await expect(page).toHaveURL('/forgot-password');
	const sentBefore = (await mailsTo(address)).length;
	await page.getByLabel('Username').fill(username);
	await page.getByRole('button', { name: 'Send link' }).click();
	const said = page.getByRole('status');
	await expect(said).toContainText('If an account with this name has a confirmed email address');

	// The same words for a name nobody has.
	await page.getByLabel('Username').fill(uniqueUsername('nobody'));
	await page.getByRole('button', { name: 'Send link' }).click();
	await expect(said).toContainText('If an account with this name has a confirmed email address');

	const link = await linkMailed(address, '/reset-password', sentBefore);
	await page.goto(link);
	await expect(page.getByRole('heading', { name: 'Set a new password' })).toBeVisible();
	expect(page.url()).not.toContain('token');
	await setNewPassword(page);
	await expectSignInWorksOnlyWithNewPassword(page, username);

	// The link works once.
	await logOut(page);
	await page.goto(link);
	await setNewPassword(page, 'yet another horse staple');
	await expect(page.getByRole('alert')).toContainText('This link is wrong, used or expired');
	await expect(page.getByRole('alert').getByRole('link', { name: 'Ask for a new link' })).toBeVisible();
});

test('a recovery key made on the account page resets the password', async ({ page }) => {
	const username = uniqueUsername('key');
	await signUpViaApi(page, username);
	await openSecurity(page);
	const section = recoveryKeyOf(page);
	await expect(section.getByTestId('recovery-key-state')).toHaveText('No recovery key yet.');
	await section.getByRole('button', { name: 'Make a recovery key' }).click();
	await section.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await section.getByRole('button', { name: 'Make a recovery key' }).click();
	const shown = section.getByTestId('recovery-key');
	await expect(shown).toHaveText(/\S{4}-/);
	const key = (await shown.textContent())!.trim();

	// Not saved yet: the page asks for it first; a download counts.
	await section.getByRole('button', { name: 'I have saved it' }).click();
	await expect(section.getByRole('alert')).toContainText('Save the key first');
	const download = page.waitForEvent('download');
	await section.getByRole('button', { name: 'Download' }).click();
	expect((await download).suggestedFilename()).toBe(`latchkey-recovery-key-${username}.txt`);
	await section.getByRole('button', { name: 'I have saved it' }).click();
	await expect(section.getByTestId('recovery-key')).toHaveCount(0);
	await expect(section.getByTestId('recovery-key-state')).toContainText('You have a recovery key, made');
	await logOut(page);

	await page.goto('/forgot-password');
	await page.getByRole('link', { name: 'I have a recovery key' }).click();
	await expect(page).toHaveURL('/reset-password?with=key');
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Recovery key').fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GG');
	await setNewPassword(page);
	await expect(page.getByRole('alert')).toContainText('The username or the recovery key is wrong');
	await expect(page.getByLabel('Recovery key')).toBeFocused();

	await page.getByLabel('Recovery key').fill(key);
	await page.getByRole('button', { name: 'Set new password' }).click();
	await expectSignInWorksOnlyWithNewPassword(page, username);
});

test('a recovery code with a code from the authenticator app resets the password; the form asks for both', async ({
	page
}) => {
	const username = uniqueUsername('rcode');
	await signUpViaApi(page, username);
	await openSecurity(page);
	const { app, codes } = await setUpAuthenticator(page);
	await saveRecoveryCodes(page);
	await logOut(page);

	await page.goto('/forgot-password');
	await page.getByRole('link', { name: 'I have a recovery code and my authenticator app' }).click();
	await expect(page).toHaveURL('/reset-password?with=code');
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Recovery code').fill(codes[0]);
	await page.getByLabel('New password').fill(NEW_PASSWORD);
	await page.getByRole('button', { name: 'Set new password' }).click();
	const code = page.getByLabel('Code from your authenticator app');
	await expect(code).toBeFocused();
	await expect(code).toHaveAttribute('aria-invalid', 'true');

	await code.fill(await app.next());
	await page.getByRole('button', { name: 'Set new password' }).click();
	await expect(page).toHaveURL('/login?notice=password-reset');

	// Two-factor authentication stays on: the new password, then a code.
	await logIn(page, username, NEW_PASSWORD);
	await page.getByLabel('Authentication code').fill(await app.next());
	await page.getByRole('button', { name: 'Continue' }).click();
	await expect(page).toHaveURL('/');
});

test('after sign-up the welcome page offers a recovery key and an email address, and can be skipped', async ({ page }) => {
	const username = uniqueUsername('welcome');
	await page.goto('/register');
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page).toHaveURL('/welcome');
	await expect(page.getByRole('heading', { name: 'Your account is ready', level: 1 })).toBeVisible();
	await expect(emailOf(page).getByRole('button', { name: 'Add email address' })).toBeVisible();
	await expect(page.getByRole('link', { name: 'Skip for now' })).toBeVisible();

	const section = recoveryKeyOf(page);
	await section.getByRole('button', { name: 'Make a recovery key' }).click();
	await section.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await section.getByRole('button', { name: 'Make a recovery key' }).click();
	await expect(section.getByTestId('recovery-key')).toBeVisible();
	await section.getByRole('checkbox', { name: 'I wrote it down or stored it another way' }).check();
	await section.getByRole('button', { name: 'I have saved it' }).click();
	await expect(section.getByTestId('recovery-key-state')).toContainText('You have a recovery key');

	await page.getByRole('link', { name: 'Continue' }).click();
	await expect(page).toHaveURL('/');
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();

	// Only once: visiting /register signed in goes on as before.
	await page.goto('/register');
	await expect(page).toHaveURL('/');
});

test('a verification link that is wrong says so', async ({ page }) => {
	await page.goto('/verify-email#token=not-a-real-token');
	await expect(page.getByRole('alert')).toContainText('This link is wrong, used or expired');
	expect(new URL(page.url()).hash).toBe('');
	await page.goto('/verify-email');
	await expect(page.getByRole('alert')).toContainText('This link is incomplete');
});

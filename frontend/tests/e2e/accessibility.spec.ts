import { expect, test, type Page } from '@playwright/test';
import { stepAt, totp } from '../../src/lib/test/totp';
import {
	addVirtualAuthenticator,
	axeViolations,
	logIn,
	logOutFromHeader,
	onBlankAppPage,
	passkeysOf,
	PASSWORD,
	saveRecoveryCodes,
	setUpAuthenticator,
	signInViaApi,
	twoFactorOf,
	uniqueUsername,
	withoutPasskeyAutofill
} from './helpers';

// Every page, signed out and in, and its error states, checked by axe-core against WCAG 2.2 A and AA, in
// light and dark.

const username = uniqueUsername('axe');

const apiPath = (path: string) => (url: URL) =>
	url.pathname === path && url.port === new URL(process.env.E2E_API_URL!).port;

interface Case {
	name: string;
	signedIn?: boolean;
	/** The case changes the page for good (a virtual authenticator, an init script): it gets a page of its own. */
	ownPage?: boolean;
	/** Navigates to the page and waits until it shows what is checked. */
	open: (page: Page) => Promise<void>;
}

const cases: Case[] = [
	{
		name: 'home, signed out',
		open: async (page) => {
			await page.goto('/');
			await expect(page.getByRole('heading', { name: 'Your accounts, on your own server.' })).toBeVisible();
		}
	},
	{
		name: 'log in',
		open: async (page) => {
			await page.goto('/login');
			await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
		}
	},
	{
		name: 'log in, after a wrong password',
		open: async (page) => {
			await page.goto('/login');
			await logIn(page, username, 'not the right password');
			await expect(page.getByRole('alert')).toContainText(/\S/);
		}
	},
	{
		name: 'log in, counting down after a 429',
		open: async (page) => {
			await page.goto('/login');
			await page.route(apiPath('/login'), (route) =>
				route.fulfill({
					status: 429,
					contentType: 'application/json',
					headers: {
						'Access-Control-Allow-Origin': new URL(page.url()).origin,
						'Access-Control-Allow-Credentials': 'true',
						'Access-Control-Expose-Headers': 'Retry-After',
						'Retry-After': '60'
					},
					body: JSON.stringify({ code: 'too_many_attempts', message: 'Too many attempts. Try again later.' })
				})
			);
			await logIn(page, username, 'a guess');
			await expect(page.getByTestId('retry-countdown')).toBeVisible();
		}
	},
	{
		name: 'log in, after the session expired',
		signedIn: true,
		open: async (page) => {
			await page.goto('/');
			await expect(page.getByRole('navigation', { name: 'Main' }).getByTestId('header-username')).toBeVisible();
			await page.context().clearCookies();
			await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
			await expect(page.getByTestId('signed-out-notice')).toContainText('Your session has expired');
		}
	},
	{
		name: 'create account',
		open: async (page) => {
			await page.goto('/register');
			await expect(page.getByRole('heading', { name: 'Create account' })).toBeVisible();
		}
	},
	{
		name: 'create account, with field errors',
		open: async (page) => {
			await page.goto('/register');
			await page.getByLabel('Username').fill('x');
			await page.getByLabel('Password', { exact: true }).fill('short');
			await page.getByRole('button', { name: 'Create account' }).click();
			await expect(page.locator('#password-error')).toBeVisible();
		}
	},
	{
		name: 'home, signed in',
		signedIn: true,
		open: async (page) => {
			await page.goto('/');
			await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
		}
	},
	{
		name: 'account, security page with form errors and a strength meter',
		signedIn: true,
		open: async (page) => {
			await page.goto('/account/security');
			await page.getByLabel('Current password').fill('not my password');
			await page.getByLabel('New password').fill('lantern orchard velvet 1987');
			await page.getByRole('button', { name: 'Change password' }).click();
			await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
			await page.getByLabel('New password').fill('password');
			await expect(page.getByRole('meter', { name: 'Password strength' })).toHaveAttribute('aria-valuetext', /\S/);
		}
	},
	{
		name: 'account, the delete dialog with its errors',
		signedIn: true,
		open: async (page) => {
			await page.goto('/account');
			await page.getByRole('button', { name: 'Delete account…' }).click();
			const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
			await dialog.getByRole('button', { name: 'Delete account' }).click();
			await expect(dialog.locator('#delete-username-error')).toBeVisible();
		}
	},
	{
		name: 'account, sessions with the sign-out-everywhere dialog open',
		signedIn: true,
		open: async (page) => {
			await page.goto('/account/sessions');
			await expect(page.getByTestId('session').first()).toBeVisible();
			await page.getByRole('button', { name: 'Sign out everywhere…' }).click();
			await expect(page.getByRole('dialog', { name: 'Sign out everywhere?' })).toBeVisible();
		}
	},
	{
		name: 'account, sessions and trusted devices after Stop trusting',
		signedIn: true,
		open: async (page) => {
			await page.goto('/account/sessions');
			const devices = page.getByRole('region', { name: 'Trusted devices' });
			await expect(devices.getByTestId('trusted-device').first()).toBeVisible();
			await expect(devices.getByText('This device')).toBeVisible();
			// Every run of this case signs in from a new browser: ending this one's trust harms no other.
			await devices.getByTestId('trusted-device').filter({ hasText: 'This device' }).getByRole('button', { name: 'Stop trusting…' }).click();
			const dialog = page.getByRole('dialog', { name: /^Stop trusting/ });
			await expect(dialog).toBeVisible();
			await page.mouse.move(0, 0);
			expect(await axeViolations(page)).toEqual([]);
			await dialog.getByRole('button', { name: 'Stop trusting', exact: true }).click();
			await expect(devices.getByRole('status')).toContainText('is no longer trusted');
		}
	},
	{
		name: 'account, a passkey being renamed, with the server’s refusal on the field',
		ownPage: true,
		open: async (page) => {
			await withoutPasskeyAutofill(page);
			await addVirtualAuthenticator(page);
			await signInViaApi(page, uniqueUsername('axename'), { register: true });
			await page.goto('/account/security');
			const passkeys = passkeysOf(page);
			await passkeys.getByRole('button', { name: 'Add a passkey' }).click();
			await passkeys.getByLabel('Password', { exact: true }).fill(PASSWORD);
			await passkeys.getByRole('button', { name: 'Add passkey' }).click();
			const field = passkeys.getByLabel('New name');
			await expect(field).toBeFocused();
			await field.fill('Laptop\u0007');
			await passkeys.getByRole('button', { name: 'Save name' }).click();
			await expect(field).toHaveAttribute('aria-invalid', 'true');
		}
	},
	{
		name: 'account, a list that could not be reloaded',
		signedIn: true,
		open: async (page) => {
			await page.goto('/account/activity');
			await expect(page.getByTestId('activity-event').first()).toBeVisible();
			await page.route(
				(url) => url.pathname === '/activity' && url.port === new URL(process.env.E2E_API_URL!).port,
				(route) => route.abort('internetdisconnected')
			);
			await page.getByRole('link', { name: 'Sign-ins' }).click();
			await page.getByRole('link', { name: 'All' }).click();
			await expect(page.getByTestId('load-error')).toBeVisible();
		}
	},
	{
		name: 'account, setting up an authenticator app (QR code and key)',
		open: async (page) => {
			await signInViaApi(page, uniqueUsername('axeqr'), { register: true });
			await page.goto('/account/security');
			const section = twoFactorOf(page);
			await section.getByRole('button', { name: 'Set up an authenticator app' }).click();
			await section.getByLabel('Password', { exact: true }).fill(PASSWORD);
			await section.getByRole('button', { name: 'Continue' }).click();
			await expect(section.getByRole('img', { name: /^QR code/ })).toBeVisible();
			await section.getByLabel('Code from the app').fill('12');
			await section.getByRole('button', { name: 'Turn on' }).click();
			await expect(section.getByLabel('Code from the app')).toHaveAttribute('aria-invalid', 'true');
		}
	},
	{
		name: 'account, recovery codes shown once',
		open: async (page) => {
			await signInViaApi(page, uniqueUsername('axecodes'), { register: true });
			await page.goto('/account/security');
			await setUpAuthenticator(page);
			await twoFactorOf(page).getByRole('button', { name: 'Copy', exact: true }).click();
			await expect(twoFactorOf(page).getByTestId('recovery-codes').getByRole('status')).toContainText(/\S/);
		}
	},
	{
		name: 'account, two-factor on, a passkey listed, step-up forms open with errors',
		ownPage: true,
		open: async (page) => {
			await addVirtualAuthenticator(page);
			await signInViaApi(page, uniqueUsername('axe2fa'), { register: true });
			await page.goto('/account/security');
			const passkeys = passkeysOf(page);
			await passkeys.getByRole('button', { name: 'Add a passkey' }).click();
			await passkeys.getByLabel('Name').fill('Test laptop');
			await passkeys.getByLabel('Password', { exact: true }).fill(PASSWORD);
			await passkeys.getByRole('button', { name: 'Add passkey' }).click();
			await expect(passkeys.getByTestId('passkey')).toHaveCount(1);

			const section = twoFactorOf(page);
			await setUpAuthenticator(page);
			await saveRecoveryCodes(page);
			await expect(page.getByRole('region', { name: 'Change password' }).getByLabel('Authentication code')).toBeVisible();
			await passkeys.getByRole('button', { name: 'Remove…' }).click();
			const remove = page.getByRole('dialog', { name: 'Remove the passkey “Test laptop”?' });
			await remove.getByRole('button', { name: 'Remove passkey' }).click();
			await expect(remove.getByLabel('Password', { exact: true })).toHaveAttribute('aria-invalid', 'true');
			await page.mouse.move(0, 0);
			expect(await axeViolations(page)).toEqual([]);
			await remove.getByRole('button', { name: 'Cancel' }).click();
			await section.getByRole('button', { name: 'Turn off…' }).click();
			const off = page.getByRole('dialog', { name: 'Turn off two-factor authentication' });
			await off.getByLabel('Password', { exact: true }).fill(PASSWORD);
			await off.getByLabel('Authentication code').fill(totp('A'.repeat(16), stepAt(Date.now()) + 10));
			await off.getByRole('button', { name: 'Turn off' }).click();
			await expect(off.getByLabel('Authentication code')).toHaveAttribute('aria-invalid', 'true');
		}
	},
	{
		name: 'log in, the code step after a wrong code, then a recovery code',
		open: async (page) => {
			const name = uniqueUsername('axestep');
			await signInViaApi(page, name, { register: true });
			await page.goto('/account/security');
			await setUpAuthenticator(page);
			await logOutFromHeader(page);
			await page.goto('/login');
			await logIn(page, name, PASSWORD);
			await page.getByLabel('Authentication code').fill('000000');
			await page.getByRole('button', { name: 'Continue' }).click();
			await expect(page.getByLabel('Authentication code')).toHaveAttribute('aria-invalid', 'true');
			await page.mouse.move(0, 0);
			expect(await axeViolations(page)).toEqual([]);
			await page.getByRole('button', { name: 'Use a recovery code' }).click();
			await expect(page.getByLabel('Recovery code')).toBeFocused();
		}
	},
	{
		name: 'forgot password, after asking for a link',
		open: async (page) => {
			await page.goto('/forgot-password');
			await page.getByLabel('Username').fill(username);
			await page.getByRole('button', { name: 'Send link' }).click();
			await expect(page.getByRole('status')).toContainText('a link is on its way');
		}
	},
	{
		name: 'reset password, choosing a way back',
		open: async (page) => {
			await page.goto('/reset-password');
			await expect(page.getByRole('link', { name: 'I have a recovery key' })).toBeVisible();
		}
	},
	{
		name: 'reset password with a recovery key, refused, with the strength meter',
		open: async (page) => {
			await page.goto('/reset-password?with=key');
			await page.getByLabel('Username').fill(username);
			await page.getByLabel('Recovery key').fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GG');
			await page.getByLabel('New password').fill('tiger lily 1987!');
			await page.getByRole('button', { name: 'Set new password' }).click();
			await expect(page.getByRole('alert')).toContainText('recovery key is wrong');
			await expect(page.locator('#new-password-strength')).toContainText(/\S/);
		}
	},
	{
		name: 'reset password with a recovery code, with field errors',
		open: async (page) => {
			await page.goto('/reset-password?with=code');
			await page.getByRole('button', { name: 'Set new password' }).click();
			await expect(page.getByLabel('Username')).toHaveAttribute('aria-invalid', 'true');
			await expect(page.getByLabel('Code from your authenticator app')).toHaveAttribute('aria-invalid', 'true');
		}
	},
	{
		name: 'verify email, a wrong link',
		open: async (page) => {
			await page.goto('/verify-email#token=wrong');
			await expect(page.getByRole('alert')).toContainText('This link is wrong');
		}
	},
	{
		name: 'welcome after sign-up',
		signedIn: true,
		open: async (page) => {
			await page.goto('/welcome');
			await expect(page.getByRole('heading', { name: 'Your account is ready' })).toBeVisible();
			await expect(page.getByRole('region', { name: 'Email address' }).getByTestId('email-state')).toBeVisible();
		}
	},
	{
		name: 'security, a new recovery key and the email form with its errors',
		signedIn: true,
		open: async (page) => {
			await page.goto('/account/security');
			const key = page.getByRole('region', { name: 'Recovery key' });
			await key.getByRole('button', { name: /recovery key$/ }).click();
			await key.getByLabel('Password', { exact: true }).fill(PASSWORD);
			await key.getByRole('button', { name: /recovery key$/ }).click();
			await expect(key.getByTestId('recovery-key')).toBeVisible();
			const email = page.getByRole('region', { name: 'Email address' });
			await email.getByRole('button', { name: /Add email address|Change address|Send the link again/ }).click();
			await email.getByRole('textbox', { name: 'Email address' }).fill('not an address');
			await email.getByRole('button', { name: 'Send confirmation link' }).click();
			await expect(email.locator('#email-address-error')).toBeVisible();
		}
	},
	{
		name: 'session check failed',
		open: async (page) => {
			await page.route(apiPath('/profile'), (route) => route.abort('internetdisconnected'));
			await page.goto('/');
			await expect(page.getByRole('heading', { name: 'We couldn’t check your session' })).toBeVisible();
		}
	}
];

// One page for every case that needs nothing of its own. A new page is a new renderer process, about 1.4
// CPU-seconds here, while every case loads its page afresh anyway: between cases the shared page forgets all
// a case can leave behind (routes, cookies, the app's storage), so each starts as a new visitor would.
let shared: Page;

test.beforeAll(async ({ browser, request }) => {
	const created = await request.post(`${process.env.E2E_API_URL}/register`, {
		data: { username, password: PASSWORD }
	});
	expect(created.status()).toBe(201);
	shared = await browser.newPage({
		baseURL: `http://localhost:${process.env.E2E_FRONTEND_PORT}`,
		viewport: { width: 1280, height: 800 }
	});
});

test.afterAll(async () => {
	await shared?.context().close();
});

test.afterEach(async () => {
	await shared.unrouteAll({ behavior: 'ignoreErrors' });
	await shared.context().clearCookies();
	await onBlankAppPage(shared);
	await shared.evaluate(() => {
		localStorage.clear();
		sessionStorage.clear();
	});
});

async function check(page: Page, colorScheme: 'light' | 'dark', { signedIn, open }: Case): Promise<void> {
	await page.emulateMedia({ colorScheme });
	// Signed in through the API: the sign-in form is auth-flow.spec.ts's subject (and this file checks it
	// with axe above), not these pages'.
	if (signedIn) await signInViaApi(page, username);
	await open(page);
	// Nothing hovered or mid-transition.
	await page.mouse.move(0, 0);
	expect(await axeViolations(page)).toEqual([]);
}

for (const colorScheme of ['light', 'dark'] as const) {
	for (const c of cases) {
		const title = `${c.name} passes axe-core's WCAG 2.2 A/AA rules (${colorScheme})`;
		if (c.ownPage) test(title, ({ page }) => check(page, colorScheme, c));
		else test(title, () => check(shared, colorScheme, c));
	}
}

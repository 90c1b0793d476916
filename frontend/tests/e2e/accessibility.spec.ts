import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { logIn, PASSWORD, uniqueUsername } from './helpers';

// Every page, signed out and in, and its error states, checked by axe-core against WCAG 2.2 A and AA, in
// light and dark.
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** The violations on the page as `rule: selector` lines, so a failure names what to fix. */
async function violations(page: Page): Promise<string[]> {
	const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
	return results.violations.flatMap((v) =>
		v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`)
	);
}

const username = uniqueUsername('axe');

const apiPath = (path: string) => (url: URL) =>
	url.pathname === path && url.port === new URL(process.env.E2E_API_URL!).port;

interface Case {
	name: string;
	signedIn?: boolean;
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
		name: 'account',
		signedIn: true,
		open: async (page) => {
			await page.goto('/profile');
			await expect(page.getByRole('heading', { name: username })).toBeVisible();
			await expect(page.getByTestId('session').first()).toBeVisible();
			await expect(page.getByTestId('activity-event').first()).toBeVisible();
		}
	},
	{
		name: 'account, with form errors and a strength meter',
		signedIn: true,
		open: async (page) => {
			await page.goto('/profile');
			await page.getByLabel('Current password').fill('not my password');
			await page.getByLabel('New password').fill('lantern orchard velvet 1987');
			await page.getByRole('button', { name: 'Change password' }).click();
			await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
			await page.getByLabel('New password').fill('password');
			await expect(page.getByRole('meter', { name: 'Password strength' })).toHaveAttribute('aria-valuetext', /\S/);
			await page.getByRole('button', { name: 'Delete account' }).click();
			await expect(page.locator('#delete-password-error')).toBeVisible();
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

test.beforeAll(async ({ request }) => {
	const created = await request.post(`${process.env.E2E_API_URL}/register`, {
		data: { username, password: PASSWORD }
	});
	expect(created.status()).toBe(201);
});

for (const colorScheme of ['light', 'dark'] as const) {
	for (const { name, signedIn, open } of cases) {
		test(`${name} passes axe-core's WCAG 2.2 A/AA rules (${colorScheme})`, async ({ page }) => {
			await page.emulateMedia({ colorScheme });
			if (signedIn) {
				await page.goto('/login');
				await logIn(page, username, PASSWORD);
				await expect(page.getByRole('navigation', { name: 'Main' }).getByTestId('header-username')).toBeVisible();
			}
			await open(page);
			// Nothing hovered or mid-transition.
			await page.mouse.move(0, 0);
			expect(await violations(page)).toEqual([]);
		});
	}
}

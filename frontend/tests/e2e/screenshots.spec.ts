import { expect, test, type Browser } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { logIn, PASSWORD } from './helpers';

// Pictures of every page, desktop and phone, light and dark. A normal run writes them to a scratch folder
// (git-ignored) so tests never rewrite committed files; UPDATE_SCREENSHOTS=1 refreshes the README's
// pictures in docs/screenshots/ on purpose.
const dir = process.env.UPDATE_SCREENSHOTS === '1'
	? join(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots')
	: join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
const USERNAME = 'ada.lovelace';

const viewports = {
	desktop: { width: 1280, height: 800 },
	phone: { width: 390, height: 844 }
} as const;

// Ordinary browsers' user agents, so the account page lists devices as a person would see them.
const userAgents = {
	desktop:
		'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
	phone:
		'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
	other:
		'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'
} as const;

async function shoot(browser: Browser, device: keyof typeof viewports, scheme: 'light' | 'dark') {
	const context = await browser.newContext({
		viewport: viewports[device],
		colorScheme: scheme,
		deviceScaleFactor: 1,
		isMobile: device === 'phone',
		hasTouch: device === 'phone',
		userAgent: userAgents[device]
	});
	const page = await context.newPage();
	const save = async (name: string) => {
		// Nothing hovered: a hovered button would look pressed in the picture.
		await page.mouse.move(0, viewports[device].height - 1);
		await page.screenshot({ path: join(dir, `${name}-${device}-${scheme}.png`), fullPage: true, animations: 'disabled' });
	};

	await page.goto('/');
	await expect(page.getByRole('link', { name: 'Sign up', exact: true })).toBeVisible();
	await save('home');

	await page.goto('/register');
	await page.getByLabel('Username').fill('a');
	await page.getByLabel('Password', { exact: true }).fill('too short');
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page.locator('#password-error')).toBeVisible();
	await save('register');

	await page.goto('/login');
	await logIn(page, USERNAME, 'not the password');
	await expect(page.getByRole('alert')).toContainText(/\S/);
	await save('login');

	await logIn(page, USERNAME, PASSWORD);
	await expect(page.getByRole('heading', { name: `Hello, ${USERNAME}!` })).toBeVisible();
	await save('home-signed-in');

	await page.goto('/profile');
	await expect(page.getByRole('heading', { name: USERNAME })).toBeVisible();
	await expect(page.getByTestId('session')).toHaveCount(2);
	await expect(page.getByTestId('activity-event').first()).toBeVisible();
	await save('account');

	// End this picture's session, so the next one lists only its own and the other browser's.
	await page.getByRole('main').getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL('/');
	await context.close();
}

test('screenshots of every page, desktop and phone, light and dark', async ({ browser, request }) => {
	mkdirSync(dir, { recursive: true });
	const apiUrl = process.env.E2E_API_URL!;
	const created = await request.post(`${apiUrl}/register`, { data: { username: USERNAME, password: PASSWORD } });
	expect([201, 409]).toContain(created.status());
	// Signed in in another browser too, for the account page's list of sessions.
	const other = await request.post(`${apiUrl}/login`, {
		data: { username: USERNAME, password: PASSWORD },
		headers: { 'User-Agent': userAgents.other }
	});
	expect(other.status()).toBe(200);

	for (const device of ['desktop', 'phone'] as const) {
		for (const scheme of ['light', 'dark'] as const) {
			await shoot(browser, device, scheme);
		}
	}
});

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

async function shoot(browser: Browser, device: keyof typeof viewports, scheme: 'light' | 'dark') {
	const context = await browser.newContext({
		viewport: viewports[device],
		colorScheme: scheme,
		deviceScaleFactor: 1,
		isMobile: device === 'phone',
		hasTouch: device === 'phone'
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
	await save('profile');
	await context.close();
}

test('screenshots of every page, desktop and phone, light and dark', async ({ browser, request }) => {
	mkdirSync(dir, { recursive: true });
	const apiUrl = process.env.E2E_API_URL!;
	const created = await request.post(`${apiUrl}/register`, { data: { username: USERNAME, password: PASSWORD } });
	expect([201, 409]).toContain(created.status());

	for (const device of ['desktop', 'phone'] as const) {
		for (const scheme of ['light', 'dark'] as const) {
			await shoot(browser, device, scheme);
		}
	}
});

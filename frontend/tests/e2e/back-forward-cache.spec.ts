import { expect, test } from '@playwright/test';
import { signUp, uniqueUsername } from './helpers';

// Playwright turns the back-forward cache off (`--disable-back-forward-cache`); browsers people use keep it
// on. This test launches Chromium with it on, as a person's browser is.

test('a page restored from the back-forward cache after a sign-out elsewhere checks the session again', { tag: '@full-chromium' }, async ({
	playwright
}) => {
	const browser = await playwright.chromium.launch({
		...test.info().project.use.launchOptions,
		ignoreDefaultArgs: ['--disable-back-forward-cache']
	});
	const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
	const page = await context.newPage();
	const username = uniqueUsername('bfc');
	await signUp(page, username);
	await page.goto('/profile');
	await expect(page.getByRole('heading', { name: username })).toBeVisible();
	await page.evaluate(() => ((window as unknown as { kept: boolean }).kept = true));

	// Away to another document; meanwhile the session ends (signed out everywhere from another device, say).
	await page.goto(`${process.env.E2E_API_URL}/health`);
	const ended = await context.request.post(`${process.env.E2E_API_URL}/logout-all`);
	expect(ended.status()).toBe(200);
	// A restored page fires pageshow, not load.
	await page.goBack({ waitUntil: 'commit' });

	// The very page came back from the cache, scripts and all, and asked the API again.
	expect(await page.evaluate(() => (window as unknown as { kept?: boolean }).kept)).toBe(true);
	await expect(page).toHaveURL(/\/login\?redirectTo=/);
	await expect(page.getByTestId('signed-out-notice')).toContainText('Your session has expired');
	await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' })).toBeVisible();
	await browser.close();
});

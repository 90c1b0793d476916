import { expect, type Page } from '@playwright/test';

/** A username no earlier run on the same database has used. */
export function uniqueUsername(prefix = 'user'): string {
	return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

export const PASSWORD = 'correct horse battery staple';

/**
 * Collects console errors (including the browser's "Failed to load resource" line for every 4xx, with its
 * URL) and uncaught exceptions. An expired access token should cause none; a page load without a session
 * causes the two of `signedOutCheck`.
 */
export function watchConsole(page: Page): string[] {
	const errors: string[] = [];
	page.on('console', (message) => {
		if (message.type() !== 'error') return;
		errors.push(`${message.text()} ${message.location().url}`.trim());
	});
	page.on('pageerror', (error) => errors.push(String(error)));
	return errors;
}

export async function signUp(page: Page, username: string, password = PASSWORD): Promise<void> {
	await page.goto('/register');
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page).toHaveURL('/');
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
}

export async function logIn(page: Page, username: string, password = PASSWORD): Promise<void> {
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
}

/** Waits past the access token's lifetime (ACCESS_TOKEN_EXPIRATION=3 in the e2e backend). */
export async function waitForAccessTokenToExpire(page: Page): Promise<void> {
	await page.waitForTimeout(4_000);
}

/**
 * The console lines of `count` page loads without a session: the app asks `/profile` (the cookies are
 * HttpOnly, so only the API knows), and `/refresh` then finds no session either.
 */
export function signedOutCheck(count = 1): unknown[] {
	return Array.from({ length: count }, () => [
		expect.stringMatching(/status of 401 .*\/profile$/),
		expect.stringMatching(/status of 401 .*\/refresh$/)
	]).flat();
}

import { expect, test } from '@playwright/test';
import {
	logIn,
	PASSWORD,
	signedOutCheck,
	signUp,
	uniqueUsername,
	waitForAccessTokenToExpire,
	watchConsole
} from './helpers';

test('a new user signs up, survives token expiry and reloads, logs out and back in', async ({ page }) => {
	const errors = watchConsole(page);
	const username = uniqueUsername('e2e');

	await test.step('signed out, the header offers to log in or sign up', async () => {
		await page.goto('/');
		const nav = page.getByRole('navigation', { name: 'Main' });
		await expect(nav.getByRole('link', { name: 'Log in' })).toBeVisible();
		await expect(nav.getByRole('link', { name: 'Sign up' })).toBeVisible();
	});

	await test.step('sign up lands on / signed in', async () => {
		await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign up' }).click();
		await expect(page.getByRole('heading', { name: 'Create account' })).toBeVisible();
		await signUp(page, username);
		const nav = page.getByRole('navigation', { name: 'Main' });
		await expect(nav.getByTestId('header-username')).toContainText(username);
		await expect(nav.getByRole('link', { name: 'Account' })).toBeVisible();
		await expect(nav.getByRole('button', { name: 'Log out' })).toBeVisible();
	});

	await test.step('a reload keeps the session', async () => {
		await page.reload();
		await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
	});

	await test.step('the account page shows the user', async () => {
		await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
		await expect(page).toHaveURL('/account');
		await expect(page.getByRole('heading', { name: username })).toBeVisible();
		await expect(page.getByTestId('member-since')).toHaveAttribute('datetime', /^\d{4}-\d{2}-\d{2}T/);
	});

	await test.step('after the access token expires, navigating refreshes it transparently', async () => {
		await page.goto('/');
		await waitForAccessTokenToExpire(page);
		const refreshed = page.waitForResponse(
			(r) => new URL(r.url()).pathname === '/refresh' && r.request().method() === 'POST'
		);
		await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
		expect((await refreshed).status()).toBe(200);
		await expect(page).toHaveURL('/account');
		await expect(page.getByRole('heading', { name: username })).toBeVisible();
	});

	await test.step('after another expiry, a reload restores the session too', async () => {
		await waitForAccessTokenToExpire(page);
		await page.reload();
		await expect(page.getByRole('heading', { name: username })).toBeVisible();
		await expect(page).toHaveURL('/account');
	});

	await test.step('log out, and the account page then redirects to /login', async () => {
		await page.getByRole('main').getByRole('button', { name: 'Log out' }).click();
		await expect(page).toHaveURL('/');
		await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' })).toBeVisible();
		await page.goto('/account');
		await expect(page).toHaveURL('/login?redirectTo=/account');
		await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
	});

	await test.step('a wrong password shows the server’s message', async () => {
		await logIn(page, username, 'not the right password');
		await expect(page.getByRole('alert')).toContainText(/\S/);
		await expect(page).toHaveURL('/login?redirectTo=/account');
		await expect(page.getByLabel('Password', { exact: true })).toBeFocused();
	});

	await test.step('logging in returns to the account page', async () => {
		await logIn(page, username, PASSWORD);
		await expect(page).toHaveURL('/account');
		await expect(page.getByRole('heading', { name: username })).toBeVisible();
	});

	// Three page loads without a session (/, /register, /account after logging out), and the one failed
	// request a person caused: the wrong password.
	expect(errors).toEqual([...signedOutCheck(3), expect.stringMatching(/status of 401 .*\/login$/)]);
});

test('registering a taken username shows the server’s message on the username field', async ({ page }) => {
	const errors = watchConsole(page);
	const username = uniqueUsername('taken');
	await signUp(page, username);
	await page.getByRole('button', { name: 'Log out' }).click();
	await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign up' })).toBeVisible();

	await page.goto('/register');
	await page.getByLabel('Username').fill(username.toUpperCase());
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Create account' }).click();

	const field = page.getByLabel('Username');
	await expect(field).toHaveAttribute('aria-invalid', 'true');
	await expect(field).toBeFocused();
	await expect(field).toHaveAccessibleDescription(/already taken/i);
	await expect(page).toHaveURL('/register');

	// The message stays with the form: the next page starts clean.
	await page.getByRole('link', { name: 'Latchkey' }).click();
	await expect(page.getByRole('heading', { name: 'Your accounts, on your own server.' })).toBeVisible();
	await expect(page.getByText(/already taken/i)).toHaveCount(0);
	expect(errors).toEqual([
		...signedOutCheck(2),
		expect.stringMatching(/status of 409 .*\/register$/)
	]);
});

test('client-side checks explain the rules before anything is sent', async ({ page }) => {
	const requests: string[] = [];
	page.on('request', (r) => {
		if (new URL(r.url()).port !== new URL(page.url()).port) requests.push(r.url());
	});
	await page.goto('/register');
	await expect(page.getByRole('heading', { name: 'Create account' })).toBeVisible();
	requests.length = 0;
	await page.getByLabel('Username').fill('x');
	await page.getByLabel('Password', { exact: true }).fill('short');
	await page.getByRole('button', { name: 'Create account' }).click();

	const username = page.getByLabel('Username');
	await expect(username).toHaveAttribute('aria-invalid', 'true');
	await expect(username).toBeFocused();
	const describedBy = await username.getAttribute('aria-describedby');
	await expect(page.locator(`#${describedBy}`)).toContainText('at least 3');
	await expect(page.locator('#password-error')).toContainText('at least 12');
	expect(requests).toEqual([]);
});

test('the forms work with the keyboard alone', async ({ page }) => {
	const username = uniqueUsername('kbd');
	await page.goto('/register');
	await page.getByLabel('Username').focus();
	await page.keyboard.type(username);
	await page.keyboard.press('Tab');
	await page.keyboard.type(PASSWORD);
	await page.keyboard.press('Enter');
	await expect(page.getByRole('heading', { name: 'Your account is ready' })).toBeVisible();
	await page.getByRole('link', { name: 'Skip for now' }).focus();
	await page.keyboard.press('Enter');
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
});

test('an unexpected 401 is still recovered by one refresh and one retry', async ({ page }) => {
	const username = uniqueUsername('late');
	await signUp(page, username);
	await waitForAccessTokenToExpire(page);
	// Make the app believe its access token is still good, so only the API's 401 reveals the expiry.
	await page.evaluate(() => {
		const hint = JSON.parse(localStorage.getItem('latchkey:session') ?? '{}');
		localStorage.setItem('latchkey:session', JSON.stringify({ ...hint, access: Date.now() + 3_600_000 }));
	});
	const seen: string[] = [];
	page.on('response', (r) => {
		const { pathname, port } = new URL(r.url());
		if (port !== new URL(page.url()).port) seen.push(`${r.request().method()} ${pathname} ${r.status()}`);
	});

	await page.reload();

	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
	expect(seen.filter((s) => !s.startsWith('OPTIONS'))).toEqual([
		'GET /profile 401',
		'POST /refresh 200',
		'GET /profile 200'
	]);
});

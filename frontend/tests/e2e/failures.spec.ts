import { expect, test, type Page, type Route } from '@playwright/test';
import {
	logIn,
	logOutFromHeader,
	PASSWORD,
	signUp,
	signUpViaApi,
	uniqueUsername,
	waitForAccessTokenToExpire
} from './helpers';

// Only a 401 means "signed out": server hiccups (faked here with page.route) must never sign anyone out.

/** Answers a cross-origin API request like the API's error funnel would, CORS headers included. */
async function fail(route: Route, status: number, code: string, retryAfter?: number) {
	const origin = route.request().headers()['origin'] ?? '*';
	await route.fulfill({
		status,
		contentType: 'application/json',
		headers: {
			'Access-Control-Allow-Origin': origin,
			'Access-Control-Allow-Credentials': 'true',
			'Access-Control-Expose-Headers': 'Retry-After',
			...(retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) })
		},
		body: JSON.stringify({ code, message: `Fake ${status} (${code}).` })
	});
}

const apiPort = () => new URL(process.env.E2E_API_URL!).port;
/** Route matchers for API paths (one object per path, so `unroute` finds the same one). */
const api = {
	refresh: (url: URL) => url.port === apiPort() && url.pathname === '/refresh',
	logout: (url: URL) => url.port === apiPort() && url.pathname === '/logout',
	login: (url: URL) => url.port === apiPort() && url.pathname === '/login'
};
const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

test('a /refresh that answers 503 keeps both tabs signed in, and the session carries on afterwards', async ({
	context
}) => {
	const username = uniqueUsername('r503');
	const first = await context.newPage();
	await signUp(first, username);
	await first.goto('/account');
	const second = await context.newPage();
	await second.goto('/account');
	await expect(second.getByRole('heading', { name: username })).toBeVisible();

	await context.route(api.refresh, (route) => fail(route, 503, 'service_unavailable', 5));
	await waitForAccessTokenToExpire(first);

	// The first tab needs a refresh (its profile page asks the API again) and meets the 503.
	await first.getByRole('link', { name: 'Latchkey' }).click();
	await nav(first).getByRole('link', { name: 'Account' }).click();
	await expect(first.getByRole('alert')).toContainText('Fake 503');
	await expect(first.getByRole('heading', { name: username })).toBeVisible();
	await expect(nav(first).getByTestId('header-username')).toContainText(username);
	await expect(second.getByRole('heading', { name: username })).toBeVisible();
	await expect(nav(second).getByRole('button', { name: 'Log out' })).toBeVisible();

	// A reload during the outage cannot tell either way, and says so instead of showing "signed out".
	await second.reload();
	await expect(second.getByRole('heading', { name: 'We couldn’t check your session' })).toBeVisible();
	await expect(nav(second).getByRole('link', { name: 'Log in' })).toHaveCount(0);
	await expect(second).toHaveURL('/account');

	// The server is back: the same session works in both tabs.
	await context.unroute(api.refresh);
	await second.getByRole('button', { name: 'Try again' }).click();
	await expect(second.getByRole('heading', { name: username })).toBeVisible();
	await first.reload();
	await expect(first.getByRole('heading', { name: username })).toBeVisible();
});

test('a network error on /refresh is “try again” too', async ({ page }) => {
	const username = uniqueUsername('rnet');
	await signUp(page, username);
	await page.route(api.refresh, (route) => route.abort('internetdisconnected'));
	await waitForAccessTokenToExpire(page);

	await nav(page).getByRole('link', { name: 'Account' }).click();

	await expect(page.getByRole('alert')).toContainText('Could not reach the server');
	await expect(page.getByRole('heading', { name: username })).toBeVisible();
	await page.unroute(api.refresh);
	await page.reload();
	await expect(page.getByRole('heading', { name: username })).toBeVisible();
});

test('a logout the server could not confirm shows the error and keeps the user signed in', async ({ page }) => {
	const username = uniqueUsername('lo503');
	await signUp(page, username);
	await page.route(api.logout, (route) => fail(route, 503, 'service_unavailable'));

	await nav(page).getByRole('button', { name: 'Log out' }).click();

	await expect(page.getByRole('alert')).toContainText('Could not log you out: Fake 503');
	await expect(nav(page).getByTestId('header-username')).toContainText(username);
	await page.reload();
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();

	await page.unroute(api.logout);
	await logOutFromHeader(page);
	await page.reload();
	await expect(nav(page).getByRole('link', { name: 'Log in' })).toBeVisible();
});

test('the session is restored from the cookies even when the local hint is gone', async ({ page }) => {
	const username = uniqueUsername('nohint');
	await signUp(page, username);
	await page.evaluate(() => localStorage.clear());

	await page.reload();

	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
});

test('a session the server ended sends the user to /login with a notice, and back after signing in', async ({
	page,
	context
}) => {
	const username = uniqueUsername('gone');
	await signUp(page, username);
	// The session ends on the server's side: here its cookies disappear, so /refresh answers 401.
	await context.clearCookies();

	await nav(page).getByRole('link', { name: 'Account' }).click();

	await expect(page).toHaveURL('/login?redirectTo=/account');
	await expect(page.getByTestId('signed-out-notice')).toHaveRole('status');
	await expect(page.getByTestId('signed-out-notice')).toHaveText('Your session has expired, please sign in again.');
	await logIn(page, username, PASSWORD);
	await expect(page).toHaveURL('/account');
	await expect(page.getByRole('heading', { name: username })).toBeVisible();
});

test('a 429 on login counts down from Retry-After before the next attempt', async ({ page }) => {
	await page.goto('/login');
	await page.route(api.login, (route) => fail(route, 429, 'too_many_attempts', 42));

	await logIn(page, 'someone', 'some password');

	await expect(page.getByRole('alert')).toContainText('Fake 429');
	const countdown = page.getByRole('button', { name: /^Try again in \d+ seconds$/ });
	await expect(countdown).toBeDisabled();
	await expect(countdown).toHaveText(/Try again in (42|41|40) seconds/);
	await expect(countdown).not.toHaveText(/42 seconds/, { timeout: 3_000 });
});

test('a sign-up whose automatic sign-in failed says the account exists, and the retry signs in', async ({ page }) => {
	const username = uniqueUsername('su503');
	let failedOnce = false;
	await page.route(api.login, (route) => {
		if (failedOnce) return route.fallback();
		failedOnce = true;
		return fail(route, 503, 'service_unavailable');
	});
	await page.goto('/register');
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Create account' }).click();

	await expect(page.getByRole('alert')).toContainText(`Your account ${username} was created`);
	await expect(page.getByLabel('Password', { exact: true })).toHaveValue(PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();

	await expect(page).toHaveURL('/welcome');
	await page.getByRole('link', { name: 'Skip for now' }).click();
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
	await expect(page.getByText(/already taken/i)).toHaveCount(0);
});

test('the sign-in password stays after a 503, a 429 or a dropped connection, and goes after a wrong one', async ({
	page
}) => {
	const username = uniqueUsername('keep');
	await signUp(page, username);
	await logOutFromHeader(page);
	await page.goto('/login');
	const password = page.getByLabel('Password', { exact: true });

	for (const answer of ['503', '429', 'offline'] as const) {
		await page.route(api.login, (route) =>
			answer === 'offline' ? route.abort('internetdisconnected') : fail(route, Number(answer), 'busy', answer === '429' ? 1 : undefined)
		);
		await logIn(page, username, PASSWORD);
		await expect(page.getByRole('alert')).toContainText(/\S/);
		await expect(password).toHaveValue(PASSWORD);
		await page.unroute(api.login);
		await expect(page.getByRole('button', { name: 'Log in' })).toBeEnabled({ timeout: 5_000 });
	}

	await logIn(page, username, 'not the password');
	await expect(page.getByRole('alert')).toContainText(/\S/);
	await expect(password).toHaveValue('');
	await logIn(page, username, PASSWORD);
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
});

test('an odd redirectTo never leaves a signed-in person on the login form', async ({ page }) => {
	const username = uniqueUsername('odd');
	await signUp(page, username);
	await logOutFromHeader(page);

	// A tab inside the path: browsers drop it, and "/\t/evil.test" becomes the other site "//evil.test".
	await page.goto('/login?redirectTo=%2F%09%2Fevil.test');
	await logIn(page, username, PASSWORD);
	await expect(page).toHaveURL('/');
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();

	// Back to the login page itself: it would have nowhere to go.
	await logOutFromHeader(page);
	await page.goto('/login?redirectTo=%2Flogin%3FredirectTo%3D%252Flogin');
	await logIn(page, username, PASSWORD);
	await expect(page).toHaveURL('/');
});

test('a list whose reload fails keeps what it showed, says it may be out of date, and offers to try again', async ({
	page,
	request
}) => {
	const username = uniqueUsername('stale');
	await signUpViaApi(page, username);
	const other = await request.post(`${process.env.E2E_API_URL}/login`, { data: { username, password: PASSWORD } });
	expect(other.status()).toBe(200);
	await page.goto('/account/sessions');
	const sessions = page.getByRole('region', { name: "Where you're signed in" });
	await expect(sessions.getByTestId('session')).toHaveCount(2);

	// The other session is signed out; reloading the list then meets a 503.
	const list = (url: URL) => url.port === apiPort() && url.pathname === '/sessions';
	await page.route(list, (route) => fail(route, 503, 'service_unavailable'));
	await sessions.getByRole('button', { name: 'Sign out', exact: true }).click();

	await expect(sessions.getByTestId('stale-notice')).toContainText('This may be out of date.');
	await expect(sessions.getByTestId('stale-notice')).toContainText('Fake 503');
	await expect(sessions.getByTestId('session')).toHaveCount(2);

	await page.unroute(list);
	await sessions.getByTestId('stale-notice').getByRole('button', { name: 'Try again' }).click();
	await expect(sessions.getByTestId('stale-notice')).toHaveCount(0);
	await expect(sessions.getByTestId('session')).toHaveCount(1);
});

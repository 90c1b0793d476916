import { expect, test, type Browser, type Page } from '@playwright/test';
import { logIn, logOutFromHeader, openSecurity, PASSWORD, signUpViaApi, uniqueUsername } from './helpers';

// The account area against the real backend: its pages and addresses, sessions in several browsers, the
// destructive actions behind their confirmations, the password change, the activity's pages and filters.

const WINDOWS_CHROME =
	'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** A second browser (its own cookies), signed in as `username`. */
async function secondBrowser(browser: Browser, username: string, password = PASSWORD): Promise<Page> {
	const context = await browser.newContext({ userAgent: WINDOWS_CHROME });
	const page = await context.newPage();
	await page.goto('/login');
	await logIn(page, username, password);
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
	return page;
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });
const accountNav = (page: Page) => page.getByRole('navigation', { name: 'Account' });
const sessionsOf = (page: Page) => page.getByRole('region', { name: "Where you're signed in" });
const activityOf = (page: Page) => page.getByRole('region', { name: 'Recent activity' });
const apiUrl = () => process.env.E2E_API_URL!;
const apiPath = (path: RegExp) => (url: URL) => url.port === new URL(apiUrl()).port && path.test(url.pathname);

/** The next thing the other browser does meets a 401 and sends it to /login, saying why. */
async function expectSignedOutAtNextRequest(page: Page) {
	await nav(page).getByRole('link', { name: 'Account' }).click();
	await expect(page).toHaveURL('/login?redirectTo=/account');
	await expect(page.getByTestId('signed-out-notice')).toContainText('Your session has expired');
}

test('the account area: one address per section, a navigation that marks where you are, /profile redirects', async ({
	page
}) => {
	const username = uniqueUsername('area');
	await signUpViaApi(page, username);
	await nav(page).getByRole('link', { name: 'Account' }).click();
	await expect(page).toHaveURL('/account');
	await expect(page.getByRole('heading', { name: username, level: 1 })).toBeVisible();
	await expect(nav(page).getByRole('link', { name: 'Account' })).toHaveAttribute('aria-current', 'page');

	for (const [name, path] of [
		['Sign-in & security', '/account/security'],
		['Devices & sessions', '/account/sessions'],
		['Activity', '/account/activity'],
		['Overview', '/account']
	] as const) {
		await accountNav(page).getByRole('link', { name }).click();
		await expect(page).toHaveURL(path);
		await expect(accountNav(page).getByRole('link', { name })).toHaveAttribute('aria-current', 'page');
		await expect(accountNav(page).locator('[aria-current="page"]')).toHaveCount(1);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText(name === 'Overview' ? username : name);
	}

	// The old single page's address, with its sections' fragments and the query.
	await page.goto('/profile');
	await expect(page).toHaveURL('/account');
	await page.goto('/profile?from=mail#passkeys-title');
	await expect(page).toHaveURL('/account/security?from=mail#passkeys-title');
	await expect(page.getByRole('region', { name: 'Passkeys' })).toBeVisible();
	await page.goto('/profile#sessions-title');
	await expect(page).toHaveURL('/account/sessions');
	await page.goto('/profile#activity-title');
	await expect(page).toHaveURL('/account/activity');

	// Signed out, every page of the area sends to /login and back afterwards.
	await logOutFromHeader(page);
	await page.goto('/account/sessions');
	await expect(page).toHaveURL('/login?redirectTo=/account/sessions');
	await logIn(page, username, PASSWORD);
	await expect(page).toHaveURL('/account/sessions');
	await page.goto('/profile');
	await expect(page).toHaveURL('/account');
});

test('signing out the other browser from the sessions page signs it out at its next request', async ({
	page,
	browser
}) => {
	const username = uniqueUsername('revoke');
	await signUpViaApi(page, username);
	const other = await secondBrowser(browser, username);

	await page.goto('/account/sessions');
	const sessions = sessionsOf(page);
	await expect(sessions.getByTestId('session')).toHaveCount(2);
	const here = sessions.getByTestId('session').filter({ hasText: 'This device' });
	await expect(here).toHaveCount(1);
	await expect(here).toContainText(/Last active (just now|\d+ minutes? ago) \(.+\)/);
	await expect(here.getByRole('button')).toHaveCount(0);
	const there = sessions.getByTestId('session').filter({ hasNotText: 'This device' });
	await expect(there).toContainText('Windows');

	await there.getByRole('button', { name: 'Sign out', exact: true }).click();

	await expect(sessions.getByRole('status')).toContainText(/^Signed out .*Windows/);
	await expect(sessions.getByTestId('session')).toHaveCount(1);
	await expect(sessions.getByRole('heading', { name: "Where you're signed in" })).toBeFocused();
	// Its access token is still within its lifetime: refused anyway, at once.
	await expectSignedOutAtNextRequest(other);
	await page.goto('/account/activity');
	await expect(activityOf(page).getByTestId('activity-event').first()).toHaveAttribute('data-kind', 'session_revoked');
	await other.context().close();
});

test('“Sign out all other sessions” asks first, shows progress, and says which ones failed', async ({ page, request }) => {
	const username = uniqueUsername('others');
	await signUpViaApi(page, username);
	for (let i = 0; i < 3; i++) {
		const other = await request.post(`${apiUrl()}/login`, { data: { username, password: PASSWORD } });
		expect(other.status()).toBe(200);
	}
	await page.goto('/account/sessions');
	const sessions = sessionsOf(page);
	await expect(sessions.getByTestId('session')).toHaveCount(4);
	const ids = await sessions.getByTestId('session').filter({ hasNotText: 'This device' }).evaluateAll((items) =>
		items.map((li) => li.querySelector('[id^="session-"]')!.id.replace('session-', ''))
	);

	// Cancelling ends nothing.
	await sessions.getByRole('button', { name: 'Sign out all other sessions…' }).click();
	const dialog = page.getByRole('dialog', { name: 'Sign out 3 other sessions?' });
	await expect(dialog).toBeVisible();
	await dialog.getByRole('button', { name: 'Cancel' }).click();
	await expect(dialog).toBeHidden();
	await expect(sessions.getByRole('button', { name: 'Sign out all other sessions…' })).toBeFocused();
	await expect(sessions.getByTestId('session')).toHaveCount(4);

	// One of them fails (the server has a bad moment), the others end.
	const failing = apiPath(new RegExp(`^/sessions/${ids[1]}$`));
	await page.route(failing, async (route) => {
		if (route.request().method() !== 'DELETE') return route.fallback();
		await route.fulfill({
			status: 503,
			contentType: 'application/json',
			headers: { 'Access-Control-Allow-Origin': new URL(page.url()).origin, 'Access-Control-Allow-Credentials': 'true' },
			body: JSON.stringify({ code: 'service_unavailable', message: 'Fake 503.' })
		});
	});
	await sessions.getByRole('button', { name: 'Sign out all other sessions…' }).click();
	await dialog.getByRole('button', { name: 'Sign out 3 sessions' }).click();
	await expect(sessions.getByRole('status')).toHaveText('Signed out 2 of 3 sessions.');
	await expect(sessions.getByRole('alert')).toContainText('These are still signed in:');
	await expect(sessions.getByRole('alert')).toContainText('Fake 503.');
	await expect(sessions.getByTestId('session')).toHaveCount(2);

	await page.unroute(failing);
	await sessions.getByRole('alert').getByRole('button', { name: 'Try again' }).click();
	await expect(sessions.getByRole('status')).toHaveText('Signed out 1 other session.');
	await expect(sessions.getByTestId('session')).toHaveCount(1);
	await expect(sessions.getByRole('button', { name: 'Sign out all other sessions…' })).toBeDisabled();
});

test('“Sign out everywhere” asks first, then ends this session and the others, and says so on /login', async ({
	page,
	browser
}) => {
	const username = uniqueUsername('every');
	await signUpViaApi(page, username);
	const other = await secondBrowser(browser, username);
	await page.goto('/account/sessions');
	await expect(sessionsOf(page).getByTestId('session')).toHaveCount(2);

	await page.getByRole('button', { name: 'Sign out everywhere…' }).click();
	const dialog = page.getByRole('dialog', { name: 'Sign out everywhere?' });
	await page.keyboard.press('Escape');
	await expect(dialog).toBeHidden();
	await expect(nav(page).getByTestId('header-username')).toContainText(username);

	await page.getByRole('button', { name: 'Sign out everywhere…' }).click();
	await dialog.getByRole('button', { name: 'Sign out everywhere', exact: true }).click();

	await expect(page).toHaveURL('/login');
	await expect(page.getByTestId('signed-out-notice')).toContainText('signed out everywhere');
	await expect(nav(page).getByRole('link', { name: 'Log in' })).toBeVisible();
	await expectSignedOutAtNextRequest(other);
	await other.context().close();
});

test('changing the password: wrong current one, guessable new one, then done; other sessions end', async ({
	page,
	browser
}) => {
	const username = uniqueUsername('chpw');
	const next = 'lantern orchard velvet 1987';
	await signUpViaApi(page, username);
	const other = await secondBrowser(browser, username);
	await openSecurity(page);
	const current = page.getByLabel('Current password');
	const fresh = page.getByLabel('New password');
	const submit = page.getByRole('button', { name: 'Change password' });

	await test.step('a wrong current password is shown on that field (a 403: still signed in)', async () => {
		await current.fill('not my password at all');
		await fresh.fill(next);
		await submit.click();
		await expect(current).toHaveAttribute('aria-invalid', 'true');
		await expect(current).toBeFocused();
		await expect(current).toHaveAccessibleDescription(/\S/);
		await expect(fresh).toHaveValue(next);
		await expect(nav(page).getByTestId('header-username')).toContainText(username);
	});

	await test.step('a guessable new password: the meter says so, and so does the server', async () => {
		await current.fill(PASSWORD);
		await fresh.fill('passwordpassword');
		await expect(page.getByRole('meter', { name: 'Password strength' })).toHaveAttribute(
			'aria-valuetext',
			/not strong enough/
		);
		await submit.click();
		await expect(fresh).toHaveAttribute('aria-invalid', 'true');
		await expect(page.locator('#new-password-error')).toContainText('too easy to guess');
	});

	await test.step('a good one is changed; this session stays, the other one ends', async () => {
		await current.fill(PASSWORD);
		await fresh.fill(next);
		await submit.click();
		await expect(page.getByRole('region', { name: 'Change password' }).getByRole('status')).toContainText(
			'Your password was changed'
		);
		await expect(current).toHaveValue('');
		await expect(fresh).toHaveValue('');
		await expectSignedOutAtNextRequest(other);
		await page.goto('/account/activity');
		await expect(activityOf(page).getByTestId('activity-event').first()).toHaveAttribute('data-kind', 'password_changed');
	});

	await test.step('the old password stops working, the new one works', async () => {
		await logIn(other, username, PASSWORD);
		await expect(other.getByRole('alert')).toContainText(/\S/);
		await logIn(other, username, next);
		await expect(other).toHaveURL('/account');
	});
	await other.context().close();
});

test('deleting the account: its own button, then a dialog asking for the username typed out and the password', async ({
	page
}) => {
	const username = uniqueUsername('bye');
	await signUpViaApi(page, username);
	await page.goto('/account');
	const section = page.getByRole('region', { name: 'Delete account' });
	// No password field waits open on the page.
	await expect(section.getByLabel('Password', { exact: true })).toHaveCount(0);
	await section.getByRole('button', { name: 'Delete account…' }).click();

	const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
	const typed = dialog.getByLabel(`Type your username, ${username}, to confirm`);
	const password = dialog.getByLabel('Password', { exact: true });
	const remove = dialog.getByRole('button', { name: 'Delete account' });
	await expect(typed).toBeFocused();

	await typed.fill(username.toUpperCase());
	await password.fill(PASSWORD);
	await remove.click();
	await expect(typed).toHaveAttribute('aria-invalid', 'true');
	await expect(typed).toBeFocused();
	await expect(typed).toHaveAccessibleDescription(`Type ${username} exactly as shown.`);

	await typed.fill(username);
	await password.fill('not the password');
	await remove.click();
	await expect(password).toHaveAttribute('aria-invalid', 'true');
	await expect(password).toBeFocused();
	await expect(nav(page).getByTestId('header-username')).toContainText(username);

	await password.fill(PASSWORD);
	await remove.click();
	await expect(page).toHaveURL('/login');
	await expect(page.getByTestId('signed-out-notice')).toContainText('Your account has been deleted');

	await logIn(page, username, PASSWORD);
	await expect(page.getByRole('alert')).toContainText(/\S/);
	await signUpViaApi(page, username);
});

test('activity reads as a timeline with times as text, pages back through the cursor, and filters by kind', async ({
	page,
	request
}) => {
	const username = uniqueUsername('act');
	await signUpViaApi(page, username);
	await logOutFromHeader(page);
	await page.goto('/login');
	await logIn(page, username, 'a wrong password, once');
	await expect(page.getByRole('alert')).toContainText(/\S/);
	// 30 more sign-ins from elsewhere: more than one page (25).
	for (let i = 0; i < 30; i++) {
		expect((await request.post(`${apiUrl()}/login`, { data: { username, password: PASSWORD } })).status()).toBe(200);
	}
	await logIn(page, username, PASSWORD);
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();

	await page.goto('/account/activity');
	const events = activityOf(page).getByTestId('activity-event');
	await expect(events.first()).toHaveAttribute('data-kind', 'signed_in');
	await expect(events.first()).toContainText('current session');
	// "just now", and the date and time itself, both as text.
	await expect(events.first().locator('time')).toHaveText(/^just now \(.*\d{4}.*\d{1,2}:\d{2}.*\)$/);
	await expect(events).toHaveCount(25);

	const older = activityOf(page).getByRole('button', { name: 'Show older events' });
	await older.click();
	await expect(events).toHaveCount(34);
	await expect(older).toHaveCount(0);
	await expect(activityOf(page).getByText('That’s everything kept')).toBeVisible();
	await expect(activityOf(page).getByText('Failed sign-in attempt')).toBeVisible();
	await expect(activityOf(page).getByText('Signed out', { exact: true })).toBeVisible();

	const filters = activityOf(page).getByRole('navigation', { name: 'Show' });
	await filters.getByRole('link', { name: 'Worth a look' }).click();
	await expect(page).toHaveURL('/account/activity?show=warnings');
	await expect(filters.getByRole('link', { name: 'Worth a look' })).toHaveAttribute('aria-current', 'true');
	await expect(events).toHaveCount(1);
	await expect(events.first()).toHaveAttribute('data-kind', 'sign_in_failed');
	await filters.getByRole('link', { name: 'Account changes' }).click();
	await expect(activityOf(page).getByText('No events of this kind.')).toBeVisible();
	await filters.getByRole('link', { name: 'All' }).click();
	await expect(events).toHaveCount(25);
});

test('an older page whose cursor the API no longer knows starts the list again from the newest', async ({
	page,
	request
}) => {
	const username = uniqueUsername('cursor');
	await signUpViaApi(page, username);
	for (let i = 0; i < 26; i++) {
		expect((await request.post(`${apiUrl()}/login`, { data: { username, password: PASSWORD } })).status()).toBe(200);
	}
	await page.goto('/account/activity');
	const events = activityOf(page).getByTestId('activity-event');
	await expect(events).toHaveCount(25);
	// The event the cursor names was pruned meanwhile: the API answers 404.
	await page.route(
		(url) => url.port === new URL(apiUrl()).port && url.pathname === '/activity' && url.searchParams.has('before'),
		(route) =>
			route.fulfill({
				status: 404,
				contentType: 'application/json',
				headers: { 'Access-Control-Allow-Origin': new URL(page.url()).origin, 'Access-Control-Allow-Credentials': 'true' },
				body: JSON.stringify({ code: 'not_found', message: 'No such event.' })
			})
	);
	await activityOf(page).getByRole('button', { name: 'Show older events' }).click();
	await expect(activityOf(page).getByRole('status').filter({ hasText: 'starts again from the newest' })).toBeVisible();
	await expect(events).toHaveCount(25);
});

test('an overview card that could not load says so, and its “Try again” works inside the card’s link', async ({ page }) => {
	await signUpViaApi(page, uniqueUsername('card'));
	const mfa = apiPath(/^\/mfa$/);
	await page.route(mfa, (route) => route.abort('internetdisconnected'));
	await page.goto('/account');
	const card = page.getByTestId('overview-security');
	await expect(card.getByTestId('load-error')).toContainText('Could not load your security settings');
	await page.unroute(mfa);
	await card.getByRole('button', { name: 'Try again' }).click();
	await expect(card).toContainText('Two-factor authentication: Off');
	await expect(page).toHaveURL('/account');
});

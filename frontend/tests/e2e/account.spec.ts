import { expect, test, type Browser, type Page } from '@playwright/test';
import { logIn, PASSWORD, signUp, uniqueUsername } from './helpers';

// The account page against the real backend: sessions in two browsers, password change, deletion.

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
const sessionsOf = (page: Page) => page.getByRole('region', { name: "Where you're signed in" });
const activityOf = (page: Page) => page.getByRole('region', { name: 'Recent activity' });

/** The next thing the other browser does meets a 401 and sends it to /login, saying why. */
async function expectSignedOutAtNextRequest(page: Page) {
	await nav(page).getByRole('link', { name: 'Account' }).click();
	await expect(page).toHaveURL('/login?redirectTo=/profile');
	await expect(page.getByTestId('signed-out-notice')).toContainText('Your session has expired');
}

test('revoking the other browser from the account page signs it out at its next request', async ({
	page,
	browser
}) => {
	const username = uniqueUsername('revoke');
	await signUp(page, username);
	const other = await secondBrowser(browser, username);

	await nav(page).getByRole('link', { name: 'Account' }).click();
	const sessions = sessionsOf(page);
	await expect(sessions.getByRole('heading', { name: "Where you're signed in" })).toBeVisible();
	await expect(sessions.getByTestId('session')).toHaveCount(2);
	const here = sessions.getByTestId('session').filter({ hasText: 'This device' });
	await expect(here).toHaveCount(1);
	await expect(here).toContainText(/Last active (just now|\d+ minutes? ago)/);
	await expect(here.getByRole('button')).toHaveCount(0);
	const there = sessions.getByTestId('session').filter({ hasNotText: 'This device' });
	await expect(there).toContainText('Windows');

	await there.getByRole('button', { name: 'Sign out', exact: true }).click();

	await expect(sessions.getByRole('status')).toContainText(/^Signed out .*Windows/);
	await expect(sessions.getByTestId('session')).toHaveCount(1);
	await expect(sessions.getByRole('heading', { name: "Where you're signed in" })).toBeFocused();
	// Its access token is still within its lifetime: refused anyway, at once.
	await expectSignedOutAtNextRequest(other);
	await expect(activityOf(page).getByTestId('activity-event').first()).toHaveAttribute('data-kind', 'session_revoked');
	await other.context().close();
});

test('“Sign out everywhere” ends this session and the others, and says so on /login', async ({ page, browser }) => {
	const username = uniqueUsername('every');
	await signUp(page, username);
	const other = await secondBrowser(browser, username);
	await page.goto('/profile');
	await expect(sessionsOf(page).getByTestId('session')).toHaveCount(2);

	await page.getByRole('button', { name: 'Sign out everywhere' }).click();

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
	await signUp(page, username);
	const other = await secondBrowser(browser, username);
	await page.goto('/profile');
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
		await fresh.fill(next);
		await submit.click();
		await expect(page.getByRole('region', { name: 'Change password' }).getByRole('status')).toContainText(
			'Your password was changed'
		);
		await expect(current).toHaveValue('');
		await expect(sessionsOf(page).getByTestId('session')).toHaveCount(1);
		await expect(activityOf(page).getByTestId('activity-event').first()).toHaveAttribute('data-kind', 'password_changed');
		await expectSignedOutAtNextRequest(other);
	});

	await test.step('the old password stops working, the new one works', async () => {
		await logIn(other, username, PASSWORD);
		await expect(other.getByRole('alert')).toContainText(/\S/);
		await logIn(other, username, next);
		await expect(other).toHaveURL('/profile');
	});
	await other.context().close();
});

test('deleting the account asks for the password and a confirmation, then frees the username', async ({ page }) => {
	const username = uniqueUsername('bye');
	await signUp(page, username);
	await page.goto('/profile');
	const section = page.getByRole('region', { name: 'Delete account' });
	const password = section.getByLabel('Password', { exact: true });
	const confirm = section.getByRole('checkbox');
	const remove = section.getByRole('button', { name: 'Delete account' });

	await password.fill(PASSWORD);
	await remove.click();
	await expect(confirm).toBeFocused();
	await expect(confirm).toHaveAccessibleDescription('Tick the box to confirm.');

	await confirm.check();
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
	await signUp(page, username);
});

test('recent activity reads as a timeline, this session marked', async ({ page }) => {
	const username = uniqueUsername('act');
	await signUp(page, username);
	await nav(page).getByRole('button', { name: 'Log out' }).click();
	await page.goto('/login');
	await logIn(page, username, 'a wrong password, once');
	await expect(page.getByRole('alert')).toContainText(/\S/);
	await logIn(page, username, PASSWORD);
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();

	await page.goto('/profile');
	const events = activityOf(page).getByTestId('activity-event');
	await expect(events.first()).toHaveAttribute('data-kind', 'signed_in');
	await expect(events.first()).toContainText('Signed in');
	await expect(events.first()).toContainText('current session');
	await expect(events.first().locator('time')).toHaveText('just now');
	await expect(activityOf(page).getByText('Failed sign-in attempt')).toBeVisible();
	await expect(activityOf(page).getByText('Signed out', { exact: true })).toBeVisible();
});

import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { axeViolations, logIn, PASSWORD, signUp, signUpViaApi, TAKE_SCREENSHOTS, uniqueUsername } from './helpers';

// The operator console (issue 21): an administrator made with the command line finds an account, disables it
// (its other browser is signed out), enables it again and reads the audit log; someone without the role is
// refused. The API decides every call; these check what the console shows.

/** `latchkey admin users grant NAME admin` against the e2e backend's database. */
function grantAdmin(username: string) {
	const bin = resolve(process.env.LATCHKEY_BIN || resolve(import.meta.dirname, '..', '..', '..', 'target', 'debug', 'latchkey'));
	execFileSync(bin, ['admin', 'users', 'grant', username, 'admin'], {
		env: {
			...process.env,
			DATABASE_URL: `sqlite://${join(process.env.LATCHKEY_E2E_DIR!, 'e2e.db')}?mode=rwc`,
			JWT_SECRET: process.env.LATCHKEY_E2E_JWT_SECRET!,
			RUST_LOG: 'warn'
		},
		stdio: 'pipe'
	});
}

test('an administrator finds an account, disables it (its other browser is signed out), enables it and reads the audit log', async ({
	page,
	browser
}) => {
	const admin = uniqueUsername('boss');
	const target = uniqueUsername('member');

	// The member, signed in in a browser of their own.
	const other = await browser.newContext();
	const member = await other.newPage();
	await signUpViaApi(member, target);

	// Nobody and a normal user are refused.
	await page.goto('/admin');
	await expect(page).toHaveURL('/login?redirectTo=/admin');
	await signUpViaApi(page, admin);
	await page.goto('/admin');
	await expect(page.getByRole('heading', { name: 'You need the admin role', level: 1 })).toBeVisible();
	await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);

	grantAdmin(admin);
	await page.reload();
	await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
	await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toBeVisible();
	// axe on this page and on the member's (desktop, light) is the last test's, with the same pages on a phone in dark.

	// Find the member.
	await page.getByRole('searchbox', { name: 'Name' }).fill(target);
	await page.getByRole('button', { name: 'Search' }).click();
	const list = page.getByTestId('admin-user-list');
	await expect(list.getByTestId('admin-user-link')).toHaveCount(1);
	await list.getByRole('link', { name: target }).click();
	await expect(page).toHaveURL(`/admin/users/${target}`);
	await expect(page.getByRole('heading', { name: target, level: 1 })).toBeVisible();
	await expect(page.getByTestId('admin-why')).toContainText('Yes: it is enabled');
	await expect(page.getByRole('region', { name: /1 session/ })).toBeVisible();

	// Disable: a reason is required, then the step-up (the admin's password), then the change itself.
	await page.getByRole('button', { name: 'Disable account' }).click();
	const dialog = page.getByRole('dialog', { name: `Disable ${target}?` });
	await dialog.getByRole('button', { name: 'Disable account' }).click();
	await expect(dialog.getByText('Say why, for the audit log.')).toBeVisible();
	await dialog.getByRole('textbox', { name: 'Reason' }).fill('Reported for spam');
	await dialog.getByRole('button', { name: 'Disable account' }).click();
	await expect(dialog.getByRole('form', { name: 'Confirm it’s you' })).toBeVisible();
	await dialog.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await dialog.getByRole('button', { name: 'Confirm and continue' }).click();
	await expect(dialog).toBeHidden();
	await expect(page.getByTestId('admin-action-status')).toContainText(`${target} is disabled`);
	await expect(page.getByTestId('admin-why')).toContainText('an administrator disabled it');

	// The member's browser is signed out on its next request.
	await member.goto('/account');
	await expect(member).toHaveURL(/\/login/);

	// Enable again: within the step-up window, no password is asked.
	await page.getByRole('button', { name: 'Enable account' }).click();
	const enable = page.getByRole('dialog', { name: `Enable ${target}?` });
	await enable.getByRole('button', { name: 'Enable account' }).click();
	await expect(enable).toBeHidden();
	await expect(page.getByTestId('admin-action-status')).toContainText(`${target} is enabled again`);
	await expect(page.getByTestId('admin-activity')).toContainText('Account disabled by an administrator');

	// The audit log, filtered to the member, with its download.
	await page.getByRole('link', { name: `What administrators did to ${target}` }).click();
	await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
	const log = page.getByTestId('audit-list');
	await expect(log).toContainText(`${admin}: disabled the account — ${target}`);
	await expect(log).toContainText(`${admin}: enabled the account — ${target}`);
	await expect(log).toContainText('Reported for spam');
	expect(await axeViolations(page)).toEqual([]);
	const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON lines' }).click()]);
	expect(download.suggestedFilename()).toMatch(/^latchkey-audit-.*\.jsonl$/);
	const lines = (await (await import('node:fs/promises')).readFile((await download.path())!, 'utf8')).trim().split('\n');
	expect(lines.map((l) => JSON.parse(l).action)).toEqual(expect.arrayContaining(['user_disabled', 'user_enabled']));

	// The member signs in again; the console refuses them.
	await member.goto('/login');
	await member.getByLabel('Username').fill(target);
	await member.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await member.getByRole('button', { name: 'Log in' }).click();
	await expect(member.getByRole('heading', { name: `Hello, ${target}!` })).toBeVisible();
	await member.goto('/admin');
	await expect(member.getByRole('heading', { name: 'You need the admin role', level: 1 })).toBeVisible();
	// Their own activity says what the administrator did, and why.
	await member.goto('/account/activity');
	const disabled = member.locator('[data-testid="activity-event"][data-kind="account_disabled"]');
	await expect(disabled).toContainText('Account disabled by an administrator');
	await expect(disabled.getByTestId('activity-reason')).toHaveText('The administrator’s reason: “Reported for spam”');
	await other.close();
});

test('an administrator who signs in sees the Admin link at once: the roles come with the sign-in, no reload', async ({ page }) => {
	const admin = uniqueUsername('chief');
	await signUp(page, admin);
	grantAdmin(admin);
	await page.getByRole('button', { name: 'Log out' }).click();
	const adminLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' });
	await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' })).toBeVisible();
	await expect(adminLink).toHaveCount(0);

	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' }).click();
	await expect(page).toHaveURL('/login');
	// A mark on this document: a reload (or any full page load) would drop it.
	await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
	const profileRequests: string[] = [];
	page.on('request', (request) => {
		if (new URL(request.url()).pathname === '/profile') profileRequests.push(request.method());
	});

	await logIn(page, admin);
	await expect(adminLink).toBeVisible();
	expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
	// The sign-in's own answer carried the roles: nothing asked GET /profile before the link showed.
	expect(profileRequests).toEqual([]);

	await adminLink.click();
	await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();

	// The server refuses disabling one's own account (409 cannot_disable_self); the dialog says so in words.
	await page.goto(`/admin/users/${admin}`);
	await page.getByRole('button', { name: 'Disable account' }).click();
	const dialog = page.getByRole('dialog', { name: `Disable ${admin}?` });
	await dialog.getByRole('textbox', { name: 'Reason' }).fill('Testing the guard');
	await dialog.getByRole('button', { name: 'Disable account' }).click();
	await expect(dialog.getByRole('form', { name: 'Confirm it’s you' })).toBeVisible();
	await dialog.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await dialog.getByRole('button', { name: 'Confirm and continue' }).click();
	await expect(dialog.getByRole('alert')).toContainText('Not done: you can’t disable your own account.');
});

test('the search and its page live in the address: typing replaces, a search and a page push, reload, Back and a shared link keep them', async ({
	page,
	request
}) => {
	test.setTimeout(120_000);
	const admin = uniqueUsername('desk');
	// 22 accounts with one prefix: two pages of 20.
	const stem = uniqueUsername('pg');
	const names = Array.from({ length: 22 }, (_, i) => `${stem}_${String(i).padStart(2, '0')}`);
	for (const username of names) {
		expect((await request.post(`${process.env.E2E_API_URL}/register`, { data: { username, password: PASSWORD } })).status()).toBe(201);
	}
	await signUpViaApi(page, admin);
	grantAdmin(admin);
	await page.goto('/admin');
	const search = page.getByRole('searchbox', { name: 'Name' });
	const links = page.getByTestId('admin-user-list').getByTestId('admin-user-link');
	await expect(links.first()).toBeVisible();
	const entries = () => page.evaluate(() => history.length);
	const before = await entries();

	// Typing: the address follows, in one new history entry however many keys.
	await search.pressSequentially(stem.slice(0, 4));
	await expect(page).toHaveURL(`/admin?q=${stem.slice(0, 4)}`);
	await search.pressSequentially(stem.slice(4));
	await expect(page).toHaveURL(`/admin?q=${stem}`);
	await expect(links).toHaveCount(20);
	expect(await entries()).toBe(before + 1);
	await search.press('Enter');
	await expect(links).toHaveCount(20);
	expect(await entries()).toBe(before + 1);

	// The next page is an entry of its own, and survives a reload.
	await page.getByRole('button', { name: 'Next' }).click();
	await expect(page).toHaveURL(`/admin?q=${stem}&page=2`);
	await expect(links).toHaveCount(2);
	await expect(links.first()).toHaveText(names[20]);
	await expect(page.getByTestId('admin-page')).toHaveText('Page 2');
	await expect(page.getByRole('heading', { name: 'Accounts' })).toBeFocused();
	expect(await entries()).toBe(before + 2);
	await page.reload();
	await expect(links).toHaveCount(2);
	await expect(search).toHaveValue(stem);
	expect(await axeViolations(page)).toEqual([]);

	// Back: page 1 of the search, then the page before it (the field follows); Forward again.
	await page.goBack();
	await expect(page).toHaveURL(`/admin?q=${stem}`);
	await expect(links).toHaveCount(20);
	await expect(page.getByTestId('admin-page')).toHaveText('Page 1');
	await page.goBack();
	await expect(page).toHaveURL('/admin');
	await expect(search).toHaveValue('');
	await page.goForward();
	await page.goForward();
	await expect(page).toHaveURL(`/admin?q=${stem}&page=2`);
	await expect(links).toHaveCount(2);

	// A shared link opened fresh: the same page (its cursor found from page 1), and the status filter.
	const shared = await page.context().newPage();
	await shared.goto(`/admin?q=${stem}&page=2`);
	await expect(shared.getByTestId('admin-user-list').getByTestId('admin-user-link')).toHaveText([names[20], names[21]]);
	await shared.goto(`/admin?q=${stem}&status=disabled`);
	await expect(shared.getByRole('combobox', { name: 'Status' })).toHaveValue('disabled');
	await expect(shared.getByText('No account matches.')).toBeVisible();
	await shared.close();
});

test('roles: an administrator makes one (the server checks the name), deletes it, and is refused deleting admin', async ({ page }) => {
	const admin = uniqueUsername('chief');
	const role = `support_${uniqueUsername('r').slice(2)}`;
	await signUpViaApi(page, admin);
	grantAdmin(admin);
	await page.goto('/admin');
	await page.getByTestId('admin-nav-roles').click();
	await expect(page).toHaveURL('/admin/roles');
	await expect(page.getByRole('heading', { name: 'Roles', level: 1 })).toBeVisible();
	const rows = page.getByTestId('admin-role');
	await expect(rows.filter({ hasText: 'built-in' })).toContainText('admin');
	expect(await axeViolations(page)).toEqual([]);

	// A bad name: the step-up first (the API asks for it before anything else), then the server's field error.
	const name = page.getByRole('textbox', { name: 'Name' });
	await name.fill('Bad Name');
	await page.getByRole('button', { name: 'Create role' }).click();
	const stepUp = page.getByRole('dialog', { name: 'Create the role Bad Name?' });
	await expect(stepUp.getByRole('form', { name: 'Confirm it’s you' })).toBeVisible();
	await stepUp.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await stepUp.getByRole('button', { name: 'Confirm and continue' }).click();
	await expect(stepUp).toBeHidden();
	await expect(page.locator('#admin-role-name-error')).toContainText('A role name is 1–32 characters');
	await expect(name).toBeFocused();
	expect(await axeViolations(page)).toEqual([]);

	// A good one, within the step-up window: made at once, listed with no holders. The same name again is taken.
	await name.fill(role);
	await page.getByRole('textbox', { name: 'Description (optional)' }).fill('Answers the support inbox');
	await page.getByRole('button', { name: 'Create role' }).click();
	await expect(page.getByTestId('admin-action-status')).toContainText(`The role ${role} is created.`);
	await expect(rows.filter({ hasText: role })).toContainText('Held by 0 accounts');
	await expect(name).toHaveValue('');
	await name.fill(role);
	await page.getByRole('button', { name: 'Create role' }).click();
	await expect(page.locator('#admin-role-name-error')).toHaveText('A role with that name already exists.');

	// Delete it, confirmed.
	await page.getByRole('button', { name: `Delete the role ${role}` }).click();
	const remove = page.getByRole('dialog', { name: `Delete the role ${role}?` });
	await remove.getByRole('button', { name: 'Delete' }).click();
	await expect(remove).toBeHidden();
	await expect(page.getByTestId('admin-action-status')).toContainText(`The role ${role} is deleted; 0 accounts lost it.`);
	await expect(rows.filter({ hasText: role })).toHaveCount(0);

	// admin: the server refuses, and the dialog says so.
	await page.getByRole('button', { name: 'Delete the role admin' }).click();
	const refuse = page.getByRole('dialog', { name: 'Delete the role admin?' });
	await refuse.getByRole('button', { name: 'Delete' }).click();
	await expect(refuse.getByRole('alert')).toHaveText('This role is built in and cannot be deleted.');
	expect(await axeViolations(page)).toEqual([]);
	await refuse.getByRole('button', { name: 'Cancel' }).click();
	await expect(rows.filter({ hasText: 'built-in' })).toContainText('admin');

	// A reset link for a chosen time: the console sends the lifetime picked.
	await page.goto(`/admin/users/${admin}`);
	await page.getByRole('button', { name: 'Issue a reset link' }).click();
	const issue = page.getByRole('dialog', { name: `A password reset link for ${admin}?` });
	await issue.getByRole('combobox', { name: 'The link works for' }).selectOption({ label: '24 hours' });
	const [issued] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/reset-link')),
		issue.getByRole('button', { name: 'Issue a reset link' }).click()
	]);
	const expires = Date.parse((await issued.json()).expires_at);
	expect(Math.abs(expires - Date.now() - 24 * 3600_000)).toBeLessThan(5 * 60_000);
	await expect(issue.getByTestId('admin-reset-link')).toBeVisible();
});

// The README's pictures of the console (UPDATE_SCREENSHOTS=1 writes them to docs/screenshots,
// SCRATCH_SCREENSHOTS=1 to a scratch folder, a normal run takes none), and the console on a phone in dark:
// no sideways scrolling, axe clean.
const pictures =
	process.env.UPDATE_SCREENSHOTS === '1'
		? join(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots')
		: join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');

test('the console on a desktop in light and a phone in dark: axe clean, no sideways scroll, pictures', async ({ page, browser }) => {
	// Eleven pages under axe, in two languages: more than the default minute on a busy two-core machine.
	test.setTimeout(150_000);
	mkdirSync(pictures, { recursive: true });
	const admin = uniqueUsername('ops');
	const target = uniqueUsername('member');
	const context = await browser.newContext();
	await signUpViaApi(await context.newPage(), target);
	await context.close();
	await signUpViaApi(page, admin);
	grantAdmin(admin);

	for (const [device, viewport, scheme] of [
		['desktop', { width: 1280, height: 800 }, 'light'],
		['phone', { width: 390, height: 844 }, 'dark']
	] as const) {
		await page.setViewportSize(viewport);
		await page.emulateMedia({ colorScheme: scheme });
		await page.goto('/admin');
		await expect(page.getByTestId('admin-user-list')).toBeVisible();
		expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
		expect(await axeViolations(page)).toEqual([]);
		if (TAKE_SCREENSHOTS) await page.screenshot({ path: join(pictures, `admin-users-${device}-${scheme}.png`), fullPage: device === 'desktop' });

		await page.goto(`/admin/users/${target}`);
		await expect(page.getByTestId('admin-why')).toBeVisible();
		expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
		expect(await axeViolations(page)).toEqual([]);
		if (TAKE_SCREENSHOTS) await page.screenshot({ path: join(pictures, `admin-user-${device}-${scheme}.png`), fullPage: true });

		await page.goto('/admin/roles');
		await expect(page.getByTestId('admin-role-list')).toBeVisible();
		expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
		expect(await axeViolations(page)).toEqual([]);
		if (TAKE_SCREENSHOTS && device === 'desktop') await page.screenshot({ path: join(pictures, `admin-roles-${device}-${scheme}.png`), fullPage: true });

		await page.goto('/admin/audit');
		await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
		expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
		expect(await axeViolations(page)).toEqual([]);
		if (TAKE_SCREENSHOTS && device === 'desktop') await page.screenshot({ path: join(pictures, `admin-audit-${device}-${scheme}.png`), fullPage: true });
	}

	// The dialog and the step-up form, in the picture and under axe.
	await page.goto(`/admin/users/${target}`);
	await page.getByRole('button', { name: 'Reset second factors' }).click();
	const dialog = page.getByRole('dialog');
	await dialog.getByRole('button', { name: 'Reset second factors' }).click();
	await expect(dialog.getByRole('form', { name: 'Confirm it’s you' })).toBeVisible();
	expect(await axeViolations(page)).toEqual([]);
	if (TAKE_SCREENSHOTS) await page.screenshot({ path: join(pictures, 'admin-step-up-phone-dark.png') });

	// In German (the language switch's choice, kept in localStorage), on a desktop in light: axe clean too.
	await page.setViewportSize({ width: 1280, height: 800 });
	await page.emulateMedia({ colorScheme: 'light' });
	await page.evaluate(() => localStorage.setItem('latchkey:locale', 'de'));
	const german = async (path: string, heading: string, ready: string, picture: string) => {
		await page.goto(path);
		await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
		await expect(page.getByTestId(ready).first()).toBeVisible();
		await expect(page.locator('html')).toHaveAttribute('lang', 'de');
		expect(await axeViolations(page)).toEqual([]);
		await page.mouse.move(0, 799);
		if (TAKE_SCREENSHOTS) await page.screenshot({ path: join(pictures, `admin-${picture}-desktop-light-de.png`), fullPage: true });
	};
	await german('/admin', 'Benutzer', 'admin-user-list', 'users');
	await german(`/admin/users/${target}`, target, 'admin-why', 'user');
	await german('/admin/roles', 'Rollen', 'admin-role-list', 'roles');
	await german('/admin/audit', 'Protokoll', 'audit-list', 'audit');
});

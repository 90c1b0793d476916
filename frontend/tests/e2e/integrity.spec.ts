import { expect, test, type Page } from '@playwright/test';
import {
	addVirtualAuthenticator,
	credentialRequests,
	logIn,
	logOutFromHeader,
	openSecurity,
	passkeysOf,
	PASSWORD,
	recordCredentialRequests,
	signUp,
	signUpViaApi,
	uniqueUsername,
	withoutPasskeyAutofill
} from './helpers';

// Issue 16's frontend against the real backend: passkeys without a username (the button, and the username
// field's autofill through conditional mediation), trusted devices, passkey names. The autofill tests are tagged
// @full-chromium: Chromium's headless shell, where the rest of the suite runs, has no conditional mediation.


async function logOut(page: Page) {
	await logOutFromHeader(page);
}

async function expectSignedIn(page: Page, username: string) {
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
}

/** Adds a passkey on the security page (open), with `name` or, without one, the name the server suggests. */
async function addPasskey(page: Page, name?: string) {
	const section = passkeysOf(page);
	await section.getByRole('button', { name: 'Add a passkey' }).click();
	const form = section.getByRole('form', { name: 'Add a passkey' });
	if (name) await form.getByLabel('Name').fill(name);
	await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await form.getByRole('button', { name: 'Add passkey' }).click();
	await expect(section.getByRole('status')).toContainText('Added the passkey');
}

test('a passkey signs in from the button with the username left empty', async ({ page }) => {
	await withoutPasskeyAutofill(page);
	const authenticator = await addVirtualAuthenticator(page);
	const username = uniqueUsername('pkempty');
	await signUp(page, username);
	await openSecurity(page);
	await addPasskey(page, 'Test laptop');
	expect(await authenticator.credentials()).toHaveLength(1);

	await logOut(page);
	await page.goto('/login');
	await expect(page.getByLabel('Username')).toHaveValue('');
	await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
	await expectSignedIn(page, username);
	expect((await authenticator.credentials())[0].signCount).toBeGreaterThan(0);
});

test('the username field offers passkeys through autofill: Chromium’s virtual authenticator answers the quiet request by itself', { tag: '@full-chromium' }, async ({
	page
}) => {
	await recordCredentialRequests(page);
	const authenticator = await addVirtualAuthenticator(page);
	const username = uniqueUsername('pkauto');
	await signUp(page, username);
	await openSecurity(page);
	await addPasskey(page, 'Autofill laptop');
	await logOut(page);

	// Only the visit: the form's quiet request (mediation "conditional") gets the passkey and signs in.
	await page.goto('/login');
	await expectSignedIn(page, username);
	const requests = await credentialRequests(page);
	expect(requests.filter((r) => r.mediation === 'conditional' && r.outcome === 'credential')).toHaveLength(1);
	expect(requests.filter((r) => r.mediation !== 'conditional')).toHaveLength(0);
	expect((await authenticator.credentials())[0].signCount).toBeGreaterThan(0);
});

test('the quiet request waits from the start, is aborted for a password sign-in without a word, and starts again after', { tag: '@full-chromium' }, async ({
	page
}) => {
	// No authenticator: the quiet request has nothing to offer and waits, as it does until someone picks a passkey.
	await recordCredentialRequests(page);
	const username = uniqueUsername('pkquiet');
	await signUp(page, username);
	await logOut(page);
	await page.goto('/login');
	await expect(page.getByLabel('Username')).toHaveAttribute('autocomplete', 'username webauthn');
	await expect.poll(async () => (await credentialRequests(page)).map((r) => [r.mediation, r.aborted, r.outcome])).toEqual([
		['conditional', false, 'pending']
	]);

	await logIn(page, username, 'not the password');
	await expect(page.getByRole('alert')).toContainText('Invalid username or password');
	await expect(page.getByRole('alert')).not.toContainText(/cancel/i);
	await expect.poll(async () => (await credentialRequests(page)).map((r) => [r.mediation, r.aborted, r.outcome])).toEqual([
		['conditional', true, 'AbortError'],
		['conditional', false, 'pending']
	]);

	await logIn(page, username);
	await expectSignedIn(page, username);
});

test('the button stops the quiet request first, then asks in the browser’s dialog', { tag: '@full-chromium' }, async ({ page, browser }) => {
	// The passkey is made in another browser, and this one's authenticator gets it only once the quiet
	// request waits (with no authenticator it has nothing to offer, as until someone picks a passkey).
	const username = uniqueUsername('pkbutton');
	const maker = await browser.newContext();
	const makerPage = await maker.newPage();
	const source = await addVirtualAuthenticator(makerPage);
	await signUp(makerPage, username);
	await openSecurity(makerPage);
	await addPasskey(makerPage, 'Phone');
	const [passkey] = await source.credentials();
	await maker.close();

	await recordCredentialRequests(page);
	await page.goto('/login');
	await expect.poll(async () => (await credentialRequests(page)).map((r) => [r.mediation, r.outcome])).toEqual([
		['conditional', 'pending']
	]);
	const authenticator = await addVirtualAuthenticator(page);
	await authenticator.add(passkey);
	await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
	await expectSignedIn(page, username);
	const requests = await credentialRequests(page);
	expect(requests[0]).toMatchObject({ mediation: 'conditional', aborted: true });
	expect(requests[1]).toMatchObject({ mediation: null, outcome: 'credential' });
});

test('trusted devices: this one is listed after signing in, and Stop trusting removes it', async ({ page, browser }) => {
	const username = uniqueUsername('devices');
	await signUp(page, username);
	// A second browser signs in too: two trusted devices.
	const other = await browser.newContext({ userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0' });
	const otherPage = await other.newPage();
	await withoutPasskeyAutofill(otherPage);
	await otherPage.goto('/login');
	await logIn(otherPage, username);
	await expectSignedIn(otherPage, username);
	await other.close();

	await page.goto('/account/sessions');
	const section = page.getByRole('region', { name: 'Trusted devices' });
	const devices = section.getByTestId('trusted-device');
	await expect(devices).toHaveCount(2);
	const firefox = devices.filter({ hasText: 'Firefox' });
	await expect(firefox).toContainText('127.0.0.1');
	await expect(firefox).toContainText(/Last used (just now|1 minute ago)/);
	await expect(firefox).toContainText('Trust ends in 12 months');
	await expect(firefox).not.toContainText('This device');
	await expect(devices.filter({ hasText: 'This device' })).toHaveCount(1);

	await firefox.getByRole('button', { name: 'Stop trusting…' }).click();
	const dialog = page.getByRole('dialog', { name: /^Stop trusting “Firefox/ });
	await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
	await dialog.getByRole('button', { name: 'Stop trusting', exact: true }).click();
	await expect(dialog).toBeHidden();
	await expect(section.getByRole('status')).toContainText('is no longer trusted');
	await expect(devices).toHaveCount(1);
	await expect(devices).toContainText('This device');
	await expect(section.getByRole('heading', { name: 'Trusted devices' })).toBeFocused();
	// Its session goes on: only the trust ended.
	await expect(page.getByRole('region', { name: 'Where you\'re signed in' }).getByTestId('session')).toHaveCount(2);
});

test('a passkey added without a name gets the suggested one to keep or change; renaming it shows the server’s refusal on the field', async ({
	page
}) => {
	await withoutPasskeyAutofill(page);
	await addVirtualAuthenticator(page);
	await signUpViaApi(page, uniqueUsername('rename'));
	await openSecurity(page);
	const section = passkeysOf(page);
	await addPasskey(page);

	// The name the server suggested for this browser, filled in and focused for keeping or changing.
	const item = section.getByTestId('passkey');
	const field = item.getByLabel('New name');
	await expect(field).toBeFocused();
	const suggested = await field.inputValue();
	expect(suggested).toMatch(/Chrom/);
	await expect(section.getByRole('status')).toContainText(`Added the passkey “${suggested}”. Keep this name or change it below.`);

	await field.fill('Work\u202Elaptop');
	await item.getByRole('button', { name: 'Save name' }).click();
	await expect(field).toHaveAttribute('aria-invalid', 'true');
	await expect(field).toHaveAccessibleDescription(/control or invisible formatting characters/);
	await expect(field).toBeFocused();

	await field.fill('Work laptop');
	await item.getByRole('button', { name: 'Save name' }).click();
	await expect(section.getByRole('status')).toHaveText('Renamed the passkey to “Work laptop”.');
	await expect(item.getByLabel('New name')).toHaveCount(0);
	await expect(item).toContainText('Work laptop');
	await expect(item.getByRole('button', { name: 'Rename' })).toBeFocused();

	// Escape leaves a rename without a change.
	await item.getByRole('button', { name: 'Rename' }).click();
	await expect(item.getByLabel('New name')).toHaveValue('Work laptop');
	await item.getByLabel('New name').fill('Something else');
	await page.keyboard.press('Escape');
	await expect(item.getByLabel('New name')).toHaveCount(0);
	await page.reload();
	await expect(section.getByTestId('passkey')).toContainText('Work laptop');
});

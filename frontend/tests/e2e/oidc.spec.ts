import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { axeViolations, logIn, PASSWORD, signUpViaApi, TAKE_SCREENSHOTS, uniqueUsername } from './helpers';

// "Sign in with Latchkey" in the browser: an application (a tiny HTTP server here, its redirect URI registered
// with `latchkey clients create`) sends the person to /oauth2/authorize; they sign in, see the consent page,
// allow or deny, and arrive back at the application. Connected apps lists what they allowed, and revokes it.
// The client libraries' side (openid-client, Authlib) is scripts/test-oidc's.

const API = process.env.E2E_API_URL!;

let app: Server;
let callback: string;
let client: { client_id: string; client_secret: string };

/** `latchkey clients create … --json` on the e2e database. */
function createClient(name: string, redirectUri: string): { client_id: string; client_secret: string } {
	const out = execFileSync(
		process.env.LATCHKEY_E2E_BIN!,
		['clients', 'create', '--name', name, '--redirect-uri', redirectUri, '--json'],
		{
			encoding: 'utf8',
			env: {
				PATH: process.env.PATH,
				DATABASE_URL: process.env.LATCHKEY_E2E_DATABASE_URL,
				JWT_SECRET: process.env.LATCHKEY_E2E_JWT_SECRET,
				PUBLIC_URL: API,
				RUST_LOG: 'warn'
			}
		}
	);
	return JSON.parse(out.trim().split('\n').at(-1)!);
}

test.beforeAll(async () => {
	app = createServer((_req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end('<!doctype html><html lang="en"><title>Photo app</title><h1>Back at the photo app</h1></html>');
	});
	await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
	callback = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
	client = createClient('Photo app', callback);
});

test.afterAll(async () => {
	await new Promise((resolve) => app.close(resolve));
});

interface Flow {
	url: string;
	state: string;
	verifier: string;
}

/** An authorization request as a client library would make it (code flow, PKCE S256, state, nonce). */
function authorizationUrl(scope = 'openid profile email', extra: Record<string, string> = {}, redirectUri = callback): Flow {
	const verifier = randomBytes(32).toString('base64url');
	const state = randomBytes(16).toString('base64url');
	const params = new URLSearchParams({
		response_type: 'code',
		client_id: client.client_id,
		redirect_uri: redirectUri,
		scope,
		state,
		nonce: randomBytes(16).toString('base64url'),
		code_challenge: createHash('sha256').update(verifier).digest('base64url'),
		code_challenge_method: 'S256',
		...extra
	});
	return { url: `${API}/oauth2/authorize?${params}`, state, verifier };
}

const consent = (page: Page) => page.getByTestId('consent');

/** Where the browser came back to the application, as a URL. */
async function backAtApp(page: Page): Promise<URL> {
	await page.waitForURL((url) => url.href.startsWith(callback));
	await expect(page.getByRole('heading', { name: 'Back at the photo app' })).toBeVisible();
	return new URL(page.url());
}

test('signed out: sign in, see what the app gets, allow, and arrive back at the app with a code that works', async ({
	page,
	request
}) => {
	const username = uniqueUsername('oidc');
	await signUpViaApi(page, username);
	await page.context().clearCookies();

	const flow = authorizationUrl();
	await page.goto(flow.url);
	// The normal sign-in page, which comes back to the authorization.
	await expect(page).toHaveURL(/\/login\?redirectTo=\/authorize/);
	await logIn(page, username);

	await expect(consent(page)).toBeVisible();
	await expect(page.getByRole('heading', { name: 'Allow Photo app to use your account?', level: 1 })).toBeVisible();
	await expect(page.getByText(`You’re signed in as ${username}.`)).toBeVisible();
	await expect(page.getByTestId('consent-scope')).toHaveText([
		'Who you are: an identifier for your Latchkey account',
		'Your username',
		'Your email address, and whether it is verified'
	]);
	for (const colorScheme of ['light', 'dark'] as const) {
		await page.emulateMedia({ colorScheme });
		expect(await axeViolations(page), `consent page in ${colorScheme}`).toEqual([]);
	}
	await page.getByRole('button', { name: 'Allow', exact: true }).click();

	const back = await backAtApp(page);
	expect(back.searchParams.get('state')).toBe(flow.state);
	expect(back.searchParams.get('iss')).toBe(API);
	const code = back.searchParams.get('code');
	expect(code).toBeTruthy();

	// The application's side: the code and the verifier buy an ID token.
	const token = await request.post(`${API}/oauth2/token`, {
		form: {
			grant_type: 'authorization_code',
			code: code!,
			redirect_uri: callback,
			code_verifier: flow.verifier,
			client_id: client.client_id,
			client_secret: client.client_secret
		}
	});
	expect(token.status()).toBe(200);
	const body = await token.json();
	expect(body.id_token).toBeTruthy();
	const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1], 'base64url').toString());
	expect(claims.preferred_username).toBe(username);

	// Remembered: the next authorization with the same scopes goes straight back, no page.
	const again = authorizationUrl();
	await page.goto(again.url);
	const second = await backAtApp(page);
	expect(second.searchParams.get('code')).toBeTruthy();
	expect(second.searchParams.get('state')).toBe(again.state);
});

test('Deny sends the person back to the app with access_denied', async ({ page }) => {
	await signUpViaApi(page, uniqueUsername('deny'));
	const flow = authorizationUrl();
	await page.goto(flow.url);
	await expect(consent(page)).toBeVisible();
	await page.getByRole('button', { name: 'Deny', exact: true }).click();
	const back = await backAtApp(page);
	expect(back.searchParams.get('error')).toBe('access_denied');
	expect(back.searchParams.get('state')).toBe(flow.state);
	expect(back.searchParams.get('code')).toBeNull();
});

test('Connected apps lists the allowed app with what it gets, and revoking it asks for consent again', async ({ page }) => {
	await signUpViaApi(page, uniqueUsername('apps'));
	await page.goto('/account/apps');
	await expect(page.getByRole('heading', { name: 'Connected apps', level: 1 })).toBeVisible();
	await expect(page.getByTestId('apps-none')).toBeVisible();

	await page.goto(authorizationUrl('openid profile offline_access').url);
	await page.getByRole('button', { name: 'Allow', exact: true }).click();
	await backAtApp(page);

	await page.goto('/account/apps');
	const item = page.getByTestId('connected-app');
	await expect(item).toHaveCount(1);
	await expect(item).toContainText('Photo app');
	await expect(item).toContainText('Allowed');
	await expect(item).toContainText('Your username');
	await expect(item).toContainText('Stay signed in (offline access)');
	expect(await axeViolations(page)).toEqual([]);

	await item.getByRole('button', { name: 'Revoke access…' }).click();
	const dialog = page.getByRole('dialog', { name: 'Revoke access for “Photo app”?' });
	await expect(dialog).toBeVisible();
	await dialog.getByRole('button', { name: 'Revoke access', exact: true }).click();
	await expect(page.getByRole('status').filter({ hasText: 'Photo app no longer has access to your account.' })).toBeVisible();
	await expect(page.getByTestId('connected-app')).toHaveCount(0);

	// Consent is gone with it: the app has to ask again.
	await page.goto(authorizationUrl('openid profile offline_access').url);
	await expect(consent(page)).toBeVisible();
});

test('a return address the app has not registered is explained to the person, with no way to it', async ({ page }) => {
	await page.goto(authorizationUrl('openid', {}, `${callback}/`).url);
	await expect(page).toHaveURL(/\/authorize\?error=invalid_redirect_uri/);
	await expect(page.getByRole('heading', { name: 'This sign-in link doesn’t work', level: 1 })).toBeVisible();
	await expect(page.getByTestId('authorize-error')).toContainText('an address it has not registered');
	await expect(page.locator(`a[href^="${callback}"]`)).toHaveCount(0);
	expect(await axeViolations(page)).toEqual([]);

	await page.goto('/authorize?error=invalid_client');
	await expect(page.getByTestId('authorize-error')).toContainText('is not registered with this Latchkey server');

	await page.goto('/authorize?request=no-such-request');
	await expect(page.getByRole('heading', { name: 'This sign-in request has expired', level: 1 })).toBeVisible();
});

test('a sign-out asked by an app without an ID token is confirmed first, then says "You are signed out"', async ({ page }) => {
	await signUpViaApi(page, uniqueUsername('bye'));
	await page.goto(`${API}/oauth2/logout?client_id=${encodeURIComponent(client.client_id)}`);
	await expect(page).toHaveURL(/\/end-session\?request=/);
	await expect(page.getByRole('heading', { name: 'Sign out of Latchkey?', level: 1 })).toBeVisible();
	await expect(page.getByTestId('end-session-confirm')).toContainText('Photo app');
	expect(await axeViolations(page)).toEqual([]);
	await page.getByRole('button', { name: 'Sign out', exact: true }).click();
	await expect(page.getByRole('heading', { name: 'You are signed out', level: 1 })).toBeVisible();
	await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' })).toBeVisible();
	expect(await axeViolations(page)).toEqual([]);
	// Signed out for real: the account area asks for a sign-in.
	await page.goto('/account');
	await expect(page).toHaveURL(/\/login/);
});

// The README's pictures of the consent page and of Connected apps: with SCRATCH_SCREENSHOTS=1 written to the
// scratch folder, with UPDATE_SCREENSHOTS=1 to docs/screenshots/ (as screenshots.spec.ts does for the other
// pages); a normal run checks the same pages and takes none.
test('screenshots: the consent page and Connected apps, desktop and phone', async ({ browser, request }) => {
	const dir =
		process.env.UPDATE_SCREENSHOTS === '1'
			? join(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots')
			: join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
	mkdirSync(dir, { recursive: true });
	const username = 'margaret.hamilton';
	expect((await request.post(`${API}/register`, { data: { username, password: PASSWORD } })).status()).toBe(201);
	for (const [device, viewport, scheme] of [
		['desktop', { width: 1280, height: 800 }, 'light'],
		['phone', { width: 390, height: 844 }, 'dark']
	] as const) {
		const context = await browser.newContext({ locale: 'en-US', viewport, colorScheme: scheme, isMobile: device === 'phone' });
		const page = await context.newPage();
		await page.goto('/login');
		await logIn(page, username);
		await expect(page).toHaveURL('/');
		// Asked again on the second device: the first allowed these scopes already.
		await page.goto(authorizationUrl('openid profile email offline_access', { prompt: 'consent' }).url);
		await expect(consent(page)).toBeVisible();
		await page.mouse.move(0, viewport.height - 1);
		if (TAKE_SCREENSHOTS) await page.screenshot({ path: join(dir, `consent-${device}-${scheme}.png`), fullPage: true, animations: 'disabled' });
		await page.getByRole('button', { name: 'Allow', exact: true }).click();
		await backAtApp(page);
		await page.goto('/account/apps');
		await expect(page.getByTestId('connected-app')).toHaveCount(1);
		await page.mouse.move(0, viewport.height - 1);
		if (TAKE_SCREENSHOTS) await page.screenshot({ path: join(dir, `account-apps-${device}-${scheme}-en.png`), fullPage: true, animations: 'disabled' });
		await context.close();
	}
});

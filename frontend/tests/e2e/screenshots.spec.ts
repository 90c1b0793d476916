import { expect, test, type Browser } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addVirtualAuthenticator, logIn, passkeysOf, PASSWORD, setUpAuthenticator, twoFactorOf } from './helpers';

// Pictures of every page and state, desktop and phone, light and dark. A normal run writes them all to a
// scratch folder (git-ignored) so tests never rewrite committed files; UPDATE_SCREENSHOTS=1 refreshes the
// README's pictures (the `COMMITTED` ones) in docs/screenshots/ on purpose.
const scratch = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
const docs = join(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots');
const COMMITTED = new Set(['home', 'register', 'login', 'home-signed-in', 'account', 'account-2fa']);
const dirFor = (name: string) => (process.env.UPDATE_SCREENSHOTS === '1' && COMMITTED.has(name) ? docs : scratch);
const USERNAME = 'ada.lovelace';
/** The second account: two-factor authentication on, and a passkey. */
const SECURED = 'grace.hopper';

const viewports = {
	desktop: { width: 1280, height: 800 },
	phone: { width: 390, height: 844 }
} as const;

// Ordinary browsers' user agents, so the account page lists devices as a person would see them.
const userAgents = {
	desktop:
		'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
	phone:
		'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
	other:
		'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'
} as const;

type Credential = Awaited<ReturnType<Awaited<ReturnType<typeof addVirtualAuthenticator>>['credentials']>>[number];

/** What each picture session hands the next about grace.hopper: her passkey, and a recovery code not used yet. */
interface Secured {
	passkey: Credential;
	recoveryCode: string;
}

async function shoot(browser: Browser, device: keyof typeof viewports, scheme: 'light' | 'dark', secured: Secured) {
	const context = await browser.newContext({
		viewport: viewports[device],
		colorScheme: scheme,
		deviceScaleFactor: 1,
		isMobile: device === 'phone',
		hasTouch: device === 'phone',
		userAgent: userAgents[device]
	});
	const page = await context.newPage();
	const save = async (name: string) => {
		// Nothing hovered: a hovered button would look pressed in the picture.
		await page.mouse.move(0, viewports[device].height - 1);
		await page.screenshot({
			path: join(dirFor(name), `${name}-${device}-${scheme}.png`),
			fullPage: true,
			animations: 'disabled'
		});
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
	await expect(page.getByTestId('session')).toHaveCount(2);
	await expect(page.getByTestId('activity-event').first()).toBeVisible();
	await save('account');

	// Setting up an authenticator app: the QR code and the key (the enrolment starts again each time).
	await twoFactorOf(page).getByRole('button', { name: 'Set up an authenticator app' }).click();
	await twoFactorOf(page).getByLabel('Password', { exact: true }).fill(PASSWORD);
	await twoFactorOf(page).getByRole('button', { name: 'Continue' }).click();
	await expect(twoFactorOf(page).getByRole('img', { name: /^QR code/ })).toBeVisible();
	await save('totp-setup');
	await twoFactorOf(page).getByRole('button', { name: 'Cancel' }).click();

	// End this picture's session, so the next one lists only its own and the other browser's.
	await page.getByRole('main').getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL('/');

	// grace.hopper: the code step after her password, then her passkey (carried over from the last picture
	// session's authenticator, with its signature counter), the account page, new recovery codes.
	const authenticator = await addVirtualAuthenticator(page);
	await authenticator.add(secured.passkey);
	await page.goto('/login');
	await logIn(page, SECURED, PASSWORD);
	await expect(page.getByLabel('Authentication code')).toBeFocused();
	await save('login-code');
	await page.getByRole('button', { name: 'Start over' }).click();
	await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
	await expect(page.getByRole('heading', { name: `Hello, ${SECURED}!` })).toBeVisible();
	[secured.passkey] = await authenticator.credentials();

	await page.goto('/profile');
	await expect(twoFactorOf(page).getByTestId('recovery-codes-left')).toHaveText('10 recovery codes left.');
	await expect(passkeysOf(page).getByTestId('passkey')).toContainText('Last used just now');
	await expect(page.getByTestId('activity-event').first()).toBeVisible();
	await save('account-2fa');

	await twoFactorOf(page).getByRole('button', { name: 'Replace recovery codes' }).click();
	await twoFactorOf(page).getByLabel('Password', { exact: true }).fill(PASSWORD);
	await twoFactorOf(page).getByRole('button', { name: 'Use a recovery code' }).click();
	await twoFactorOf(page).getByLabel('Recovery code', { exact: true }).fill(secured.recoveryCode);
	await twoFactorOf(page).getByRole('button', { name: 'Replace recovery codes' }).click();
	await expect(twoFactorOf(page).getByTestId('recovery-code')).toHaveCount(10);
	secured.recoveryCode = (await twoFactorOf(page).getByTestId('recovery-code').first().textContent())!;
	await save('recovery-codes');
	await saveRecoveryCodes(page);
	await page.getByRole('main').getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL('/');
	await context.close();
}

/** grace.hopper with a passkey ("MacBook Air") and two-factor authentication, set up as a person would. */
async function secureAccount(browser: Browser): Promise<Secured> {
	// Set up in "another browser": its session is the other one on the account page's list.
	const context = await browser.newContext({ userAgent: userAgents.other });
	const page = await context.newPage();
	const authenticator = await addVirtualAuthenticator(page);
	await page.goto('/login');
	await logIn(page, SECURED, PASSWORD);
	await expect(page.getByRole('heading', { name: `Hello, ${SECURED}!` })).toBeVisible();
	await page.goto('/profile');
	await passkeysOf(page).getByRole('button', { name: 'Add a passkey' }).click();
	await passkeysOf(page).getByLabel('Name').fill('MacBook Air');
	await passkeysOf(page).getByLabel('Password', { exact: true }).fill(PASSWORD);
	await passkeysOf(page).getByRole('button', { name: 'Add passkey' }).click();
	await expect(passkeysOf(page).getByTestId('passkey')).toHaveCount(1);
	const { codes } = await setUpAuthenticator(page);
	const [passkey] = await authenticator.credentials();
	await context.close();
	return { passkey, recoveryCode: codes[0] };
}

test('screenshots of every page, desktop and phone, light and dark', async ({ browser, request }) => {
	mkdirSync(scratch, { recursive: true });
	mkdirSync(dirFor('account'), { recursive: true });
	const apiUrl = process.env.E2E_API_URL!;
	test.setTimeout(240_000);
	for (const username of [USERNAME, SECURED]) {
		const created = await request.post(`${apiUrl}/register`, { data: { username, password: PASSWORD } });
		expect(created.status()).toBe(201);
	}
	const secured = await secureAccount(browser);
	// Signed in in another browser too, for the account page's list of sessions.
	const other = await request.post(`${apiUrl}/login`, {
		data: { username: USERNAME, password: PASSWORD },
		headers: { 'User-Agent': userAgents.other }
	});
	expect(other.status()).toBe(200);

	for (const device of ['desktop', 'phone'] as const) {
		for (const scheme of ['light', 'dark'] as const) {
			await shoot(browser, device, scheme, secured);
		}
	}
});

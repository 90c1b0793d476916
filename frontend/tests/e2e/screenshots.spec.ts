import { expect, test, type Browser } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
	addVirtualAuthenticator,
	logIn,
	openSecurity,
	passkeysOf,
	PASSWORD,
	saveRecoveryCodes,
	setUpAuthenticator,
	TAKE_SCREENSHOTS,
	twoFactorOf,
	withoutPasskeyAutofill
} from './helpers';

// Pictures of every page and state, desktop and phone, light and dark, English and German.
// UPDATE_SCREENSHOTS=1 refreshes the README's pictures (the `COMMITTED` ones) in docs/screenshots/ on purpose
// and writes the others to a scratch folder (git-ignored); SCRATCH_SCREENSHOTS=1 writes them all there. A
// normal run walks the same pages and states with the same assertions but takes no pictures (TAKE_SCREENSHOTS),
// so tests never rewrite committed files.
const scratch = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
const docs = join(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots');
const COMMITTED = new Set([
	'home',
	'register',
	'login',
	'forgot-password',
	'reset-password',
	'welcome',
	'home-signed-in',
	'account-overview',
	'account-security',
	'account-sessions',
	'account-activity'
]);
/** The signed-out pages and the home page are committed in English only; the account area in both. */
const AREA = (name: string) => name.startsWith('account-');
const committed = (name: string, lang: Lang) => COMMITTED.has(name) && (AREA(name) || lang === 'en');
const dirFor = (name: string, lang: Lang) =>
	process.env.UPDATE_SCREENSHOTS === '1' && committed(name, lang) ? docs : scratch;
type Lang = 'en' | 'de';
const browserLocales: Record<Lang, string> = { en: 'en-US', de: 'de-DE' };
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

async function shoot(
	browser: Browser,
	device: keyof typeof viewports,
	scheme: 'light' | 'dark',
	lang: Lang,
	secured: Secured
) {
	const de = lang === 'de';
	const context = await browser.newContext({
		locale: browserLocales[lang],
		viewport: viewports[device],
		colorScheme: scheme,
		deviceScaleFactor: 1,
		isMobile: device === 'phone',
		hasTouch: device === 'phone',
		userAgent: userAgents[device]
	});
	const page = await context.newPage();
	// The sections by their ids: their names are in the page's language.
	const twoFactor = page.locator('section[aria-labelledby="two-factor-title"]');
	const passkeysSection = page.locator('section[aria-labelledby="passkeys-title"]');
	const save = async (name: string) => {
		if (!TAKE_SCREENSHOTS) return;
		// Nothing hovered: a hovered button would look pressed in the picture.
		await page.mouse.move(0, viewports[device].height - 1);
		const suffix = AREA(name) ? `-${lang}` : lang === 'en' ? '' : '-de';
		await page.screenshot({
			path: join(dirFor(name, lang), `${name}-${device}-${scheme}${suffix}.png`),
			fullPage: true,
			animations: 'disabled'
		});
	};

	await page.goto('/');
	await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
	await save('home');

	await page.goto('/register');
	await page.locator('#username').fill('a');
	await page.locator('#password').fill('too short');
	await page.locator('form button[type="submit"]').click();
	await expect(page.locator('#password-error')).toBeVisible();
	await save('register');

	await page.goto('/login');
	// Not ada's name: her wrong passwords would add up, picture after picture, to the sign-in throttle.
	await logInAs(`someone.${lang}.${device}.${scheme}`, 'not the password');
	await expect(page.getByRole('alert')).toContainText(/\S/);
	await save('login');

	// Account recovery: the ways back, a reset with a recovery key (the strength meter showing), a wrong link.
	await page.goto('/forgot-password');
	await expect(page.locator('#forgot-email-title')).toBeVisible();
	await save('forgot-password');
	await page.goto('/reset-password?with=key');
	await page.locator('#username').fill(USERNAME);
	await page.locator('#new-password').fill('tiger lily 1987!');
	await expect(page.locator('#new-password-strength')).toContainText(/\S/);
	await save('reset-password');
	await page.goto('/verify-email#token=wrong');
	await expect(page.getByRole('alert')).toContainText(/\S/);
	await save('verify-email');
	await page.goto('/login');

	await logInAs(USERNAME, PASSWORD);
	await expect(page).toHaveURL('/');
	await expect(page.getByRole('heading', { level: 1 })).toContainText(USERNAME);
	await save('home-signed-in');

	// The post-sign-up prompt, and a new recovery key shown once (each picture session makes ada a new one).
	await page.goto('/welcome');
	await expect(page.locator('section[aria-labelledby="email-title"]').getByTestId('email-state')).toBeVisible();
	await save('welcome');
	const recoveryKey = page.locator('section[aria-labelledby="recovery-key-title"]');
	await recoveryKey.locator('button').first().click();
	await recoveryKey.locator('input[type="password"]').fill(PASSWORD);
	await recoveryKey.locator('button[type="submit"]').click();
	await expect(recoveryKey.getByTestId('recovery-key')).toBeVisible();
	await save('recovery-key');

	await page.goto('/account');
	await expect(page.getByRole('heading', { name: USERNAME, level: 1 })).toBeVisible();
	await expect(page.getByTestId('overview-activity').getByRole('listitem').first()).toBeVisible();
	await expect(page.getByTestId('overview-sessions')).toContainText('2');
	await save('account-overview');

	await page.getByRole('button', { name: de ? 'Konto löschen …' : 'Delete account…' }).click();
	await expect(page.getByRole('dialog')).toBeVisible();
	await save('account-delete-dialog');
	await page.keyboard.press('Escape');

	await page.goto('/account/sessions');
	await expect(page.getByTestId('session')).toHaveCount(2);
	await save('account-sessions');
	await page.getByRole('button', { name: de ? 'Alle anderen Sitzungen abmelden …' : 'Sign out all other sessions…' }).click();
	await expect(page.getByRole('dialog')).toBeVisible();
	await save('account-sign-out-others-dialog');
	await page.keyboard.press('Escape');

	// Setting up an authenticator app: the QR code and the key (the enrolment starts again each time).
	await page.goto('/account/security');
	await twoFactor.getByRole('button', { name: de ? 'Authenticator-App einrichten' : 'Set up an authenticator app' }).click();
	await twoFactor.locator('input[type="password"]').fill(PASSWORD);
	await twoFactor.locator('form button[type="submit"]').click();
	await expect(twoFactor.getByTestId('totp-qr')).toBeVisible();
	await save('totp-setup');
	await twoFactor.getByRole('button', { name: de ? 'Abbrechen' : 'Cancel' }).click();

	// End this picture's session, so the next one lists only its own and the other browser's.
	await page.goto('/account');
	await page.getByRole('main').getByRole('button', { name: de ? 'Abmelden' : 'Log out' }).click();
	await expect(page).toHaveURL('/');

	// grace.hopper: the code step after her password, then her passkey (carried over from the last picture
	// session's authenticator, with its signature counter), her security page, her activity, new recovery codes.
	// Her passkey is for the button: the username field's autofill would sign her in before the code step.
	await withoutPasskeyAutofill(page);
	const authenticator = await addVirtualAuthenticator(page);
	await authenticator.add(secured.passkey);
	await page.goto('/login');
	await logInAs(SECURED, PASSWORD);
	await expect(page.locator('#login-code')).toBeFocused();
	await save('login-code');
	await page.getByRole('button', { name: de ? 'Von vorn beginnen' : 'Start over' }).click();
	await page.locator('#username').fill(SECURED);
	await page.getByRole('button', { name: de ? 'Mit Passkey anmelden' : 'Sign in with a passkey' }).click();
	await expect(page).toHaveURL('/');
	[secured.passkey] = await authenticator.credentials();

	await page.goto('/account/security');
	await expect(twoFactor.getByTestId('recovery-codes-left')).toContainText('10');
	await expect(passkeysSection.getByTestId('passkey')).toContainText(de ? 'gerade eben' : 'just now');
	await save('account-security');

	await page.goto('/account/activity');
	await expect(page.getByTestId('activity-event').first()).toBeVisible();
	await save('account-activity');

	await page.goto('/account/security');
	await twoFactor.getByRole('button', { name: de ? 'Wiederherstellungscodes ersetzen' : 'Replace recovery codes' }).click();
	const replace = twoFactor.getByRole('form');
	await replace.locator('input[type="password"]').fill(PASSWORD);
	await replace.getByRole('button', { name: de ? 'Wiederherstellungscode verwenden' : 'Use a recovery code' }).click();
	await replace.locator('#replace-codes-recovery-code').fill(secured.recoveryCode);
	await replace.locator('button[type="submit"]').click();
	await expect(twoFactor.getByTestId('recovery-code')).toHaveCount(10);
	secured.recoveryCode = (await twoFactor.getByTestId('recovery-code').first().textContent())!;
	await save('recovery-codes');
	await twoFactor.locator('#recovery-codes-written-down').check();
	await twoFactor.getByTestId('recovery-codes').getByRole('button').last().click();
	await page.goto('/account');
	await page.getByRole('main').getByRole('button', { name: de ? 'Abmelden' : 'Log out' }).click();
	await expect(page).toHaveURL('/');
	await context.close();

	async function logInAs(username: string, password: string) {
		await page.locator('#username').fill(username);
		await page.locator('#password').fill(password);
		await page.locator('form button[type="submit"]').first().click();
	}
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
	await openSecurity(page);
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
	mkdirSync(dirFor('account-overview', 'en'), { recursive: true });
	const apiUrl = process.env.E2E_API_URL!;
	test.setTimeout(480_000);
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

	for (const lang of ['en', 'de'] as const) {
		for (const device of ['desktop', 'phone'] as const) {
			// The colour scheme changes pixels only (accessibility.spec.ts checks both schemes' contrast with axe):
			// a run that takes no pictures walks each language and device once, which halves this test.
			for (const scheme of TAKE_SCREENSHOTS ? (['light', 'dark'] as const) : (['light'] as const)) {
				await shoot(browser, device, scheme, lang, secured);
			}
		}
	}
});

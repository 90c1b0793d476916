import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';
import { createSessionHint, SESSION_HINT_KEY, type HintStorage, type SessionTimes } from '../../src/lib/api/session-hint';
import { Authenticator } from '../../src/lib/test/totp';

/** A username no earlier run on the same database has used. */
export function uniqueUsername(prefix = 'user'): string {
	return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

export const PASSWORD = 'correct horse battery staple';

/**
 * Whether this run takes pictures: UPDATE_SCREENSHOTS=1 (the README's into docs/screenshots/, the rest into
 * the scratch folder) or SCRATCH_SCREENSHOTS=1 (all into the scratch folder, to look at them). A normal run
 * takes none: encoding PNGs (full pages, 8 combinations) was most of screenshots.spec.ts's time and proves
 * nothing the assertions around each picture don't.
 */
export const TAKE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' || process.env.SCRATCH_SCREENSHOTS === '1';

/** WCAG 2.2 A and AA: the rules every page is checked against. */
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * The page's axe-core violations of WCAG 2.2 A/AA as `rule: selector — what to fix` lines, so a failure names
 * what to fix. Legacy mode runs axe in the page itself: the default opens a blank page per check to merge the
 * frames' results, a new renderer that cost 1 CPU-second a check (0.35 s in legacy mode, measured); our pages
 * have no cross-origin frames, the one thing only the default checks.
 */
export async function axeViolations(page: Page): Promise<string[]> {
	await transitionsSettled(page);
	const results = await new AxeBuilder({ page }).withTags(WCAG).setLegacyMode().analyze();
	return results.violations.flatMap((v) =>
		v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`)
	);
}

/**
 * Waits until every CSS transition and finite animation on the page has ended. A colour scheme just switched, a
 * link just made current or a pointer just moved away starts a 150 ms colour transition, and axe's contrast check
 * reads the colours mid-way (an idle, fast machine failed on a current link at 4.19:1). Endless animations (a
 * spinner) and paused ones, which would never finish, are left as they are.
 */
async function transitionsSettled(page: Page): Promise<void> {
	await page.evaluate(async () => {
		const finite = document
			.getAnimations()
			.filter((a) => a.playState === 'running' && a.effect?.getComputedTiming().endTime !== Infinity);
		await Promise.all(finite.map((a) => a.finished.catch(() => undefined)));
	});
}

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
	// The post-sign-up prompt (a recovery key, an email address) is skippable.
	await expect(page).toHaveURL('/welcome');
	await page.getByRole('link', { name: 'Skip for now' }).click();
	await expect(page).toHaveURL('/');
	await expect(page.getByRole('heading', { name: `Hello, ${username}!` })).toBeVisible();
}

/**
 * Logs out with the header's button and waits until the header shows "Log in": a navigation right after the
 * click would abort a sign-out still on its way (on a loaded machine the next page then showed the signed-in app).
 */
export async function logOutFromHeader(page: Page): Promise<void> {
	const nav = page.getByRole('navigation', { name: 'Main' });
	await nav.getByRole('button', { name: 'Log out' }).click();
	await expect(nav.getByRole('link', { name: 'Log in' })).toBeVisible();
}

/**
 * Opens an empty page on the app's origin (served by the test, not the app): its storage is the app's, and
 * nothing of the app runs.
 */
export async function onBlankAppPage(page: Page): Promise<void> {
	const blank = `http://localhost:${process.env.E2E_FRONTEND_PORT}/__e2e-blank`;
	const serveBlank = (url: URL) => url.href === blank;
	await page.route(serveBlank, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>e2e</title>' }));
	await page.goto(blank);
	await page.unroute(serveBlank);
}

/**
 * Signs `username` in through the API, for tests whose subject is not the sign-in itself: `page.request`
 * shares the page's cookie jar and user agent, and the API and the app share the hostname, so the page's
 * next load is signed in as after the login form. `register` first creates the account (as `signUp` does,
 * without the sign-up pages). The app's session hint (the expiry times it keeps in localStorage after its
 * own sign-ins, see session-hint.ts) is written too, through a blank page on the app's origin, so the app
 * renews its access token ahead instead of meeting a 401. Leaves the page on that blank page: go somewhere.
 */
export async function signInViaApi(
	page: Page,
	username: string,
	{ password = PASSWORD, register = false }: { password?: string; register?: boolean } = {}
): Promise<void> {
	const api = process.env.E2E_API_URL!;
	if (register) {
		const created = await page.request.post(`${api}/register`, { data: { username, password } });
		expect(created.status(), await created.text()).toBe(201);
	}
	const login = await page.request.post(`${api}/login`, { data: { username, password } });
	expect(login.status(), await login.text()).toBe(200);
	const session = (await login.json()) as SessionTimes;
	expect(session.access_token_expires_at, 'a session, not a second-factor step').toBeTruthy();
	// The hint exactly as the app's own sign-in would store it.
	const stored = new Map<string, string>();
	const storage: HintStorage = {
		getItem: (key) => stored.get(key) ?? null,
		setItem: (key, value) => void stored.set(key, value),
		removeItem: (key) => void stored.delete(key)
	};
	createSessionHint(storage).save(session, Date.now());
	await onBlankAppPage(page);
	await page.evaluate(([key, value]) => localStorage.setItem(key, value), [SESSION_HINT_KEY, stored.get(SESSION_HINT_KEY)!]);
}

/** `signUp`'s end state without its pages: a new account, signed in, on the home page. */
export async function signUpViaApi(page: Page, username: string, password = PASSWORD): Promise<void> {
	await signInViaApi(page, username, { password, register: true });
	await page.goto('/');
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

/** The account area's "Sign-in & security" page, where passwords, two-factor authentication and passkeys are. */
export async function openSecurity(page: Page): Promise<void> {
	await page.goto('/account/security');
	await expect(page.getByRole('heading', { name: 'Sign-in & security', level: 1 })).toBeVisible();
}

/** The recovery codes are on screen: say they were written down, and close them. */
export async function saveRecoveryCodes(page: Page): Promise<void> {
	const section = twoFactorOf(page);
	await section.getByRole('checkbox', { name: 'I wrote them down or stored them another way' }).check();
	await section.getByRole('button', { name: 'I’ve saved them' }).click();
	await expect(section.getByTestId('recovery-code')).toHaveCount(0);
}

/** The "Two-factor authentication" section. */
export const twoFactorOf = (page: Page) => page.getByRole('region', { name: 'Two-factor authentication' });
/** The "Passkeys" section. */
export const passkeysOf = (page: Page) => page.getByRole('region', { name: 'Passkeys' });

/**
 * Turns on two-factor authentication on the security page (which must be open) as a person would: the
 * password, the setup key read off the page into a test authenticator app, its code. Stops at the recovery
 * codes, which it returns with the app.
 */
export async function setUpAuthenticator(page: Page, password = PASSWORD): Promise<{ app: Authenticator; codes: string[] }> {
	const section = twoFactorOf(page);
	await section.getByRole('button', { name: 'Set up an authenticator app' }).click();
	await section.getByLabel('Password', { exact: true }).fill(password);
	await section.getByRole('button', { name: 'Continue' }).click();
	await expect(section.getByRole('img', { name: /^QR code for adding your Latchkey account/ })).toBeVisible();
	const app = new Authenticator((await section.getByTestId('totp-secret').textContent())!.replace(/\s+/g, ''));
	await section.getByLabel('Code from the app').fill(await app.next());
	await section.getByRole('button', { name: 'Turn on' }).click();
	await expect(section.getByTestId('recovery-code')).toHaveCount(10);
	return { app, codes: await section.getByTestId('recovery-code').allTextContents() };
}

/** The options the issue names: a platform authenticator that holds passkeys and verifies its user. */
export const VIRTUAL_AUTHENTICATOR = {
	protocol: 'ctap2',
	transport: 'internal',
	hasResidentKey: true,
	hasUserVerification: true,
	isUserVerified: true,
	automaticPresenceSimulation: true
} as const;

/**
 * Gives the page a virtual authenticator (the DevTools protocol's WebAuthn domain): no prompt, no device.
 * `credentials()` lists what it holds (private keys included); `add()` puts one in, e.g. from another page's.
 */
export async function addVirtualAuthenticator(page: Page) {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('WebAuthn.enable', { enableUI: false });
	const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: VIRTUAL_AUTHENTICATOR });
	const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
	type Credential = Awaited<ReturnType<typeof credentials>>[number];
	return {
		credentials,
		add: (credential: Credential) => cdp.send('WebAuthn.addCredential', { authenticatorId, credential })
	};
}

export type VirtualAuthenticator = Awaited<ReturnType<typeof addVirtualAuthenticator>>;

/**
 * Turns off the login form's quiet passkey request (conditional mediation) for this page, as in a browser
 * without it: for tests whose virtual authenticator should answer only the button.
 */
export async function withoutPasskeyAutofill(page: Page): Promise<void> {
	await page.addInitScript(() => {
		if (typeof PublicKeyCredential === 'function') {
			Object.defineProperty(PublicKeyCredential, 'isConditionalMediationAvailable', { value: async () => false });
		}
	});
}

/**
 * Records every `navigator.credentials.get` the page makes: its mediation, and whether its signal was aborted
 * (and when it ended, how). Read it with `credentialRequests(page)`.
 */
export async function recordCredentialRequests(page: Page): Promise<void> {
	await page.addInitScript(() => {
		type Entry = { mediation: string | null; aborted: boolean; outcome: string };
		const log: Entry[] = [];
		(window as unknown as { __credentialRequests: Entry[] }).__credentialRequests = log;
		const get = navigator.credentials.get.bind(navigator.credentials);
		navigator.credentials.get = (options?: CredentialRequestOptions) => {
			const entry: Entry = { mediation: options?.mediation ?? null, aborted: false, outcome: 'pending' };
			log.push(entry);
			options?.signal?.addEventListener('abort', () => (entry.aborted = true));
			const request = get(options);
			request.then(
				(credential) => (entry.outcome = credential ? 'credential' : 'null'),
				(error: unknown) => (entry.outcome = (error as Error).name)
			);
			return request;
		};
	});
}

export type CredentialRequest = { mediation: string | null; aborted: boolean; outcome: string };

export const credentialRequests = (page: Page): Promise<CredentialRequest[]> =>
	page.evaluate(() => (window as unknown as { __credentialRequests: CredentialRequest[] }).__credentialRequests ?? []);

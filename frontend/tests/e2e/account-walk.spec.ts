import { expect, test, type Browser, type Page } from '@playwright/test';
import { axeViolations, PASSWORD, signInViaApi, uniqueUsername, watchConsole } from './helpers';

// Every page of the account area, as people reach it: through its navigation, on a phone and a desktop, in
// English and German (the browser's language), each checked in light and dark by axe-core (WCAG 2.2 A/AA),
// with no console errors, a skip link that skips the navigation, a focus ring of at least 3:1 on everything
// reachable by Tab, and nothing wider than the screen.

const apiUrl = () => process.env.E2E_API_URL!;

const viewports = {
	desktop: { width: 1280, height: 800 },
	phone: { width: 390, height: 844 }
} as const;

const languages = {
	en: {
		browser: 'en-GB',
		account: 'Account',
		nav: 'Account',
		pages: [
			['Overview', '/account'],
			['Sign-in & security', '/account/security'],
			['Devices & sessions', '/account/sessions'],
			['Connected apps', '/account/apps'],
			['Activity', '/account/activity']
		],
		skip: 'Skip to content'
	},
	de: {
		browser: 'de-DE',
		account: 'Konto',
		nav: 'Konto',
		pages: [
			['Übersicht', '/account'],
			['Anmeldung & Sicherheit', '/account/security'],
			['Geräte & Sitzungen', '/account/sessions'],
			['Verbundene Apps', '/account/apps'],
			['Aktivität', '/account/activity']
		],
		skip: 'Zum Inhalt springen'
	}
} as const;

/** Puts the keyboard's starting point at the top of the page, as after a fresh load. */
async function focusTop(page: Page): Promise<void> {
	await page.evaluate(() => {
		const marker = document.createElement('div');
		marker.tabIndex = -1;
		document.body.prepend(marker);
		marker.focus();
		marker.remove();
	});
}

/**
 * Tabs through the page (up to `max` stops) and returns every focused element whose focus ring is missing or
 * below 3:1 against the colour around it (WCAG 2.2 1.4.11 / 2.4.13), as "what: ratio".
 */
async function weakFocusRings(page: Page, max = 30): Promise<string[]> {
	await focusTop(page);
	const weak: string[] = [];
	const seen = new Set<number>();
	for (let i = 0; i < max; i++) {
		await page.keyboard.press('Tab');
		const result = await page.evaluate(() => {
			const el = document.activeElement as HTMLElement | null;
			if (!el || el === document.body) return null;
			// Any CSS colour (Tailwind's are oklch) as sRGB with alpha, by painting it.
			const canvas = document.createElement('canvas');
			canvas.width = canvas.height = 1;
			const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
			const parse = (c: string) => {
				if (!c || c === 'transparent') return null;
				ctx.clearRect(0, 0, 1, 1);
				ctx.fillStyle = c;
				ctx.fillRect(0, 0, 1, 1);
				const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
				return { r, g, b, a: a / 255 };
			};
			const lum = ({ r, g, b }: { r: number; g: number; b: number }) => {
				const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
				return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
			};
			// What the ring is drawn on: the first opaque background around the element, blending the
			// translucent ones on the way.
			const layers: { r: number; g: number; b: number; a: number }[] = [];
			for (let node = el.parentElement; node; node = node.parentElement) {
				const c = parse(getComputedStyle(node).backgroundColor);
				if (c && c.a > 0) layers.push(c);
				if (c && c.a >= 1) break;
			}
			let bg = { r: 255, g: 255, b: 255 };
			const html = parse(getComputedStyle(document.documentElement).backgroundColor);
			if (html && html.a >= 1) bg = html;
			for (const layer of layers.reverse()) {
				bg = {
					r: layer.r * layer.a + bg.r * (1 - layer.a),
					g: layer.g * layer.a + bg.g * (1 - layer.a),
					b: layer.b * layer.a + bg.b * (1 - layer.a)
				};
			}
			const style = getComputedStyle(el);
			const ring = parse(style.outlineColor);
			const width = parseFloat(style.outlineWidth);
			const name = `${el.tagName.toLowerCase()} “${(el.textContent || el.getAttribute('aria-label') || el.id).trim().slice(0, 40)}”`;
			// The same element twice: Tab went round the page.
			const all = [...document.querySelectorAll('*')];
			const key = all.indexOf(el);
			if (style.outlineStyle === 'none' || width < 2 || !ring) return { key, name, ratio: 0 };
			const [hi, lo] = [lum(ring), lum(bg)].sort((a, b) => b - a);
			return { key, name, ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100 };
		});
		if (!result) continue;
		if (seen.has(result.key)) break;
		seen.add(result.key);
		if (result.ratio < 3) weak.push(`${result.name}: ${result.ratio}`);
	}
	// Leave nothing focused: a focused skip link covers the header.
	await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
	return weak;
}

/** A user with two-factor authentication off, another session, and some activity; signed in in `browser`. */
async function signedInContext(browser: Browser, device: keyof typeof viewports, language: keyof typeof languages) {
	const context = await browser.newContext({
		viewport: viewports[device],
		isMobile: device === 'phone',
		hasTouch: device === 'phone',
		locale: languages[language].browser
	});
	const username = uniqueUsername(`walk${language}`);
	// Another browser: the account, a failed sign-in and a session there, for the lists to show.
	const elsewhere = await browser.newContext();
	const api = elsewhere.request;
	expect((await api.post(`${apiUrl()}/register`, { data: { username, password: PASSWORD } })).status()).toBe(201);
	expect((await api.post(`${apiUrl()}/login`, { data: { username, password: 'not the password' } })).status()).toBe(401);
	expect((await api.post(`${apiUrl()}/login`, { data: { username, password: PASSWORD } })).status()).toBe(200);
	await elsewhere.close();
	// Signed in here through the API, with the app's session hint as its own sign-in leaves it: the app then
	// knows when its access token expires and renews it before it does (without the hint, a sign-in made
	// elsewhere would show up as 401s first). The sign-in form is auth-flow.spec.ts's subject, not this file's.
	const page = await context.newPage();
	await signInViaApi(page, username);
	return { context, page, username };
}

for (const device of ['desktop', 'phone'] as const) {
	for (const language of ['en', 'de'] as const) {
		test(`every page of the account area on a ${device}, in ${language === 'en' ? 'English' : 'German'}: axe in light and dark, no console errors, skip link, focus rings, nothing wider than the screen`, async ({
			browser
		}) => {
			// A long walk (every page, two schemes, axe, a Tab walk); scripts/test runs it beside three other lanes.
			test.setTimeout(300_000);
			const words = languages[language];
			const { context, page, username } = await signedInContext(browser, device, language);
			const errors = watchConsole(page);

			await page.goto('/');
			await expect(page.locator('html')).toHaveAttribute('lang', language);
			await page.getByRole('navigation', { name: language === 'en' ? 'Main' : 'Hauptmenü' }).getByRole('link', { name: words.account }).click();
			await expect(page).toHaveURL('/account');

			for (const [name, path] of words.pages) {
				const nav = page.getByRole('navigation', { name: words.nav, exact: true });
				const link = nav.getByRole('link', { name, exact: true });
				await link.scrollIntoViewIfNeeded();
				await expect(link).toBeInViewport();
				await link.click();
				await expect(page).toHaveURL(path);
				await expect(link).toHaveAttribute('aria-current', 'page');
				const heading = page.getByRole('heading', { level: 1 });
				await expect(heading).toHaveText(path === '/account' ? username : name);
				// The page has finished loading what it shows.
				await expect(page.getByRole('status').filter({ hasText: /…$/ })).toHaveCount(0);

				for (const colorScheme of ['light', 'dark'] as const) {
					await page.emulateMedia({ colorScheme });
					await page.mouse.move(0, 0);
					expect(await axeViolations(page), `${path} in ${colorScheme}`).toEqual([]);
					expect(await weakFocusRings(page), `focus rings on ${path} in ${colorScheme}`).toEqual([]);
				}

				// Nothing sideways on a phone: the page is as wide as the screen.
				const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
				expect(overflow, `${path} is wider than the screen`).toBeLessThanOrEqual(0);

				// The first Tab reaches the skip link, which skips the header and the section navigation.
				await focusTop(page);
				await page.keyboard.press('Tab');
				const skip = page.getByRole('link', { name: words.skip });
				await expect(skip).toBeFocused();
				await expect(skip).toBeInViewport();
				await page.keyboard.press('Enter');
				await expect(page.locator('#account-content')).toBeFocused();
				await page.keyboard.press('Tab');
				expect(await page.evaluate(() => !!document.activeElement?.closest('#account-content'))).toBe(true);
			}

			expect(errors).toEqual([]);
			await context.close();
		});
	}
}

test('the language switch changes every word at once, is remembered, and dates follow it', async ({ browser }) => {
	const { context, page, username } = await signedInContext(browser, 'desktop', 'en');
	await page.goto('/account');
	await expect(page.getByRole('heading', { name: username, level: 1 })).toBeVisible();
	const since = page.getByTestId('member-since');
	const year = new Date().getFullYear();
	// The browser says en-GB; the switch says English, and English dates read "December 2, 2026".
	await expect(since).toHaveText(new RegExp(`^[A-Z][a-z]+ \\d{1,2}, ${year}$`));

	await page.getByLabel('Language').selectOption('de');
	await expect(page.locator('html')).toHaveAttribute('lang', 'de');
	await expect(page.getByRole('navigation', { name: 'Konto', exact: true }).getByRole('link', { name: 'Übersicht' })).toBeVisible();
	await expect(page.getByText('Mitglied seit')).toBeVisible();
	await expect(since).toHaveText(new RegExp(`^\\d{1,2}\\. [A-ZÄÖÜ][a-zäöü]+ ${year}$`));
	await expect(page.getByRole('button', { name: 'Abmelden' }).first()).toBeVisible();

	await page.reload();
	await expect(page.getByLabel('Sprache')).toHaveValue('de');
	await expect(page.getByText('Mitglied seit')).toBeVisible();
	await page.getByLabel('Sprache').selectOption('en');
	await expect(page.getByText('Member since')).toBeVisible();
	await context.close();
});

test('with reduced motion asked for, nothing animates or slides', async ({ browser }) => {
	const { context, page } = await signedInContext(browser, 'phone', 'en');
	await page.emulateMedia({ reducedMotion: 'reduce' });
	await page.goto('/account/sessions');
	await expect(page.getByTestId('session').first()).toBeVisible();
	const durations = await page.evaluate(() =>
		[...document.querySelectorAll('a, button, [class*="animate-"]')].map((el) => {
			const style = getComputedStyle(el);
			return Math.max(parseFloat(style.transitionDuration) || 0, parseFloat(style.animationDuration) || 0);
		})
	);
	expect(Math.max(...durations)).toBeLessThan(0.001);
	await context.close();
});

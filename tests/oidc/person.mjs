// The person's part of an OpenID Connect flow, in Debian's Chromium through playwright-core: sign up, sign in,
// consent (Allow or Deny), confirm a sign-out. A browser profile is a directory, so a person stays signed in
// (and their consent stays remembered) from one call to the next, as in a real browser. Each profile's browser
// stays open from its first call until `closeBrowsers()`, as a person's would: starting Chromium for every call
// cost about 2 CPU-seconds each, most of this suite's CPU time.
//
// As a module: `signUp(...)`, `browse(...)`, `closeBrowsers()`. As a command (for the Python suite), one JSON
// line on stdout:
//   node person.mjs signup PROFILE APP_URL USERNAME PASSWORD
//   node person.mjs browse PROFILE URL USERNAME PASSWORD allow|deny STOP_PREFIX
//   node person.mjs serve    one of the two above per line on stdin, as a JSON array of its words; one JSON line
//                            out per line in; the browsers close when stdin does
// The application's redirect URIs (STOP_PREFIX…) are answered by a tiny HTTP server started for the call.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
// What a person does here needs no browser UI: the headless shell.
import { CHROMIUM_ARGS, HEADLESS_SHELL } from '../../frontend/tests/chromium.mjs';

/** Each profile's browser (a persistent context), launched on its first call. */
const browsers = new Map();

function browserFor(profile) {
	if (!browsers.has(profile)) {
		const launched = chromium
			.launchPersistentContext(profile, {
				executablePath: HEADLESS_SHELL,
				headless: true,
				args: CHROMIUM_ARGS,
				locale: 'en-GB',
				viewport: { width: 1280, height: 800 }
			})
			.then((context) => {
				context.setDefaultTimeout(15_000);
				return context;
			});
		// A launch that failed is tried again on the next call.
		launched.catch(() => browsers.delete(profile));
		browsers.set(profile, launched);
	}
	return browsers.get(profile);
}

async function withBrowser(profile, use) {
	const context = await browserFor(profile);
	const page = context.pages()[0] ?? (await context.newPage());
	return use(page);
}

/** Closes every profile's browser (a persistent profile keeps its cookies on disk). */
export async function closeBrowsers() {
	const open = [...browsers.values()];
	browsers.clear();
	await Promise.all(open.map((launched) => launched.then((context) => context.close()).catch(() => {})));
}

/** A tiny HTTP server on the application's address (STOP_PREFIX's host and port), answering every path. */
async function applicationServer(prefix) {
	const url = new URL(prefix);
	const server = createServer((req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end('<!doctype html><title>Test application</title><p>Back at the application.</p>');
	});
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(Number(url.port), url.hostname, resolve);
	});
	// The browser stays open (and keeps its connection alive): close that too, or close() waits for it.
	return {
		close: () =>
			new Promise((resolve) => {
				server.close(resolve);
				server.closeAllConnections();
			})
	};
}

/** Creates the account in this profile (which is then signed in), through the app's sign-up page. */
export async function signUp(profile, appUrl, username, password) {
	return withBrowser(profile, async (page) => {
		await page.goto(`${appUrl}/register`);
		await page.getByLabel('Username').fill(username);
		await page.getByLabel('Password', { exact: true }).fill(password);
		await page.getByRole('button', { name: 'Create account' }).click();
		await page.waitForURL(/\/welcome/);
		await page.getByRole('link', { name: 'Skip for now' }).click();
		await page.getByRole('heading', { name: `Hello, ${username}!` }).waitFor();
		return { ok: true };
	});
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens `url` (an authorization or end-session URL) and does what a person would until the browser is back at
 * the application (`stop` prefix) or Latchkey shows a page that ends the journey (an error, "You are signed
 * out"). Returns where it ended and what the person saw on the way.
 */
export async function browse(profile, url, { username, password, consent = 'allow', stop }) {
	const app = await applicationServer(stop);
	try {
		return await withBrowser(profile, async (page) => {
			const seen = { login: false, consent: false, confirm: false, scopes: [] };
			await page.goto(url);
			const deadline = Date.now() + 30_000;
			while (Date.now() < deadline) {
				const here = page.url();
				if (here.startsWith(stop)) return { ...seen, url: here, ended: 'application' };
				const path = new URL(here).pathname;
				if (path === '/login' && (await page.getByLabel('Username').isVisible().catch(() => false))) {
					seen.login = true;
					await page.getByLabel('Username').fill(username);
					await page.getByLabel('Password', { exact: true }).fill(password);
					await page.getByRole('button', { name: 'Log in' }).click();
					await page.waitForURL((u) => u.pathname !== '/login', { timeout: 15_000 });
					continue;
				}
				if (await page.getByTestId('consent').isVisible().catch(() => false)) {
					seen.consent = true;
					seen.heading = await page.getByRole('heading', { level: 1 }).textContent();
					seen.scopes = await page.getByTestId('consent-scope').allTextContents();
					await page.getByRole('button', { name: consent === 'allow' ? 'Allow' : 'Deny', exact: true }).click();
					await page.waitForURL((u) => !u.pathname.startsWith('/authorize'), { timeout: 15_000 });
					continue;
				}
				if (await page.getByTestId('end-session-confirm').isVisible().catch(() => false)) {
					seen.confirm = true;
					await page.getByRole('button', { name: 'Sign out', exact: true }).click();
					await sleep(200);
					continue;
				}
				for (const [id, ended] of [
					['authorize-error', 'error'],
					['authorize-expired', 'expired'],
					['end-session-done', 'signed_out'],
					['end-session-expired', 'expired'],
					['end-session-invalid', 'error']
				]) {
					if (await page.getByTestId(id).isVisible().catch(() => false)) {
						return { ...seen, url: here, ended, text: (await page.getByTestId(id).textContent())?.trim() };
					}
				}
				await sleep(100);
			}
			return { ...seen, url: page.url(), ended: 'timeout', text: (await page.locator('main').textContent())?.trim() };
		});
	} finally {
		await app.close();
	}
}

/** One command (`signup …` or `browse …`, as words) and its result; an error is a result too. */
async function run([command, profile, ...rest]) {
	try {
		if (command === 'signup') return await signUp(profile, ...rest);
		if (command === 'browse') {
			const [url, username, password, consent, stop] = rest;
			return await browse(profile, url, { username, password, consent, stop });
		}
		throw new Error(`unknown command ${command}`);
	} catch (error) {
		return { ended: 'exception', error: String(error?.stack ?? error) };
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const words = process.argv.slice(2);
	if (words[0] === 'serve') {
		for await (const line of createInterface({ input: process.stdin })) {
			if (!line.trim()) continue;
			let result;
			try {
				result = await run(JSON.parse(line));
			} catch (error) {
				result = { ended: 'exception', error: String(error) };
			}
			process.stdout.write(`${JSON.stringify(result)}\n`);
		}
	} else {
		process.stdout.write(`${JSON.stringify(await run(words))}\n`);
	}
	await closeBrowsers();
}

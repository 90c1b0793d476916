// Debian's Chromium, as the browser suites launch it (frontend/playwright.config.ts, tests/oidc/person.mjs).
// Plain JavaScript with no imports but Node's, so both npm projects can load it.
import { existsSync } from 'node:fs';

/** The full browser: what only it has (the back-forward cache, passkey autofill) is tested here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Its headless shell (Debian's `chromium-headless-shell`, Playwright's own default for headless runs): no browser
 * UI to drive, about a third less CPU (the e2e suite: 475 -> 304 CPU-seconds, measured). The full browser when the
 * shell is not installed.
 */
const shell = process.env.CHROMIUM_HEADLESS_SHELL_PATH ?? '/usr/bin/chromium-headless-shell';
export const HEADLESS_SHELL = existsSync(shell) ? shell : CHROMIUM;

/** Playwright already adds --headless, a fresh --user-data-dir and its no-network flags. */
export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, HEADLESS_SHELL } from './tests/chromium.mjs';

/**
 * End-to-end tests: the built frontend (served with an SPA fallback) against the real backend binary on a
 * fresh SQLite database, in Debian's Chromium. Both sites use the hostname `localhost`, so the API's
 * cookies are first-party to the page.
 */

/** A port nothing listens on right now (asked of the OS, synchronously, since the config must be). */
function freePort(): string {
	const script =
		"const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })";
	return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
}

// The runner and each worker load this file: choose once, and let the workers inherit the choice. A port
// set beforehand is kept (scripts/test-frontend chooses the API's, which it bakes into the build).
const PORTS = ['E2E_API_PORT', 'E2E_FRONTEND_PORT', 'E2E_SMTP_PORT', 'E2E_MAIL_PORT'];
for (const name of PORTS) {
	const taken = () => PORTS.filter((n) => n !== name).map((n) => process.env[n]);
	while (!process.env[name] || taken().includes(process.env[name])) process.env[name] = freePort();
}
const FRONTEND_PORT = Number(process.env.E2E_FRONTEND_PORT);
const API_PORT = Number(process.env.E2E_API_PORT);
const SMTP_PORT = Number(process.env.E2E_SMTP_PORT);
const MAIL_PORT = Number(process.env.E2E_MAIL_PORT);
export const FRONTEND_URL = `http://localhost:${FRONTEND_PORT}`;
export const API_URL = `http://localhost:${API_PORT}`;

// LATCHKEY_BIN runs the suite against another build of the backend (e.g. one made from a clean worktree).
const backend = resolve(process.env.LATCHKEY_BIN || resolve(import.meta.dirname, '..', 'target', 'debug', 'latchkey'));
if (!existsSync(backend)) {
	throw new Error(`${backend} is missing: build it first with \`cargo build -p latchkey\` (or set LATCHKEY_BIN).`);
}

process.env.LATCHKEY_E2E_DIR ??= mkdtempSync(join(tmpdir(), 'latchkey-e2e-'));
process.env.LATCHKEY_E2E_JWT_SECRET ??= randomBytes(32).toString('hex');
process.env.E2E_API_URL = API_URL;
// tests/e2e/oidc.spec.ts registers OpenID Connect clients with the same binary, on the same database.
process.env.LATCHKEY_E2E_BIN = backend;
process.env.LATCHKEY_E2E_DATABASE_URL = `sqlite://${join(process.env.LATCHKEY_E2E_DIR, 'e2e.db')}?mode=rwc`;
process.env.E2E_MAIL_URL = `http://127.0.0.1:${MAIL_PORT}`;

const VIEWPORT = { viewport: { width: 1280, height: 800 } };
const launchOptions = (executablePath: string) => ({ executablePath, args: CHROMIUM_ARGS });

export default defineConfig({
	testDir: 'tests/e2e',
	outputDir: 'test-results/artifacts',
	globalTeardown: './tests/e2e/global-teardown.ts',
	// Two files at a time, each in a browser of its own, against the one backend: every test signs up accounts of
	// its own (uniqueUsername), so none sees another's state. The suite took 139 s against 185 s with one worker
	// (alone on two cores), and in scripts/test, where it is the longest lane, it takes a larger share of the CPU
	// while the other lanes wait on their databases. A file's tests stay in order, in one worker.
	fullyParallel: false,
	workers: Number(process.env.E2E_WORKERS ?? 2),
	retries: 0,
	// Guards against a hang, not speed checks: scripts/test runs this suite beside three other lanes on two cores.
	timeout: 120_000,
	expect: { timeout: 20_000 },
	forbidOnly: !!process.env.CI,
	reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
	use: {
		baseURL: FRONTEND_URL,
		browserName: 'chromium',
		headless: true,
		// Recording a trace (a screencast and a DOM snapshot per action) took about 30% of the suite's CPU even
		// for the tests that pass, and CI shows text only: E2E_TRACE=1 records one per failed test, to replay a
		// failure with `npx playwright show-trace`. Without it, a failure still leaves its error and the page's
		// accessibility tree in test-results/artifacts/*/error-context.md.
		trace: process.env.E2E_TRACE === '1' ? 'retain-on-failure' : 'off'
	},
	// Two builds of Debian's Chromium (tests/chromium.mjs). Most tests run in its headless shell, about a third
	// less CPU. What only the full browser has, a test tagged @full-chromium gets: the back-forward cache and
	// passkey autofill (conditional mediation, which the shell refuses with NotSupportedError). Without the shell
	// installed, everything runs in the full browser.
	projects: [
		{
			name: 'headless-shell',
			grepInvert: /@full-chromium/,
			use: { ...VIEWPORT, launchOptions: launchOptions(HEADLESS_SHELL) }
		},
		{ name: 'chromium', grep: /@full-chromium/, use: { ...VIEWPORT, launchOptions: launchOptions(CHROMIUM) } }
	],
	webServer: [
		{
			// Mail: a tiny SMTP server that keeps what the backend sends, for the tests to read over HTTP.
			command: `node tests/e2e/mail-sink.mjs ${SMTP_PORT} ${MAIL_PORT}`,
			url: `http://127.0.0.1:${MAIL_PORT}/health`,
			reuseExistingServer: false,
			timeout: 10_000,
			stdout: 'ignore',
			stderr: 'pipe'
		},
		{
			command: `${JSON.stringify(backend)} serve`,
			url: `http://127.0.0.1:${API_PORT}/health`,
			reuseExistingServer: false,
			timeout: 60_000,
			stdout: 'ignore',
			stderr: 'pipe',
			env: {
				DATABASE_URL: process.env.LATCHKEY_E2E_DATABASE_URL,
				JWT_SECRET: process.env.LATCHKEY_E2E_JWT_SECRET,
				HOST: '127.0.0.1',
				PORT: String(API_PORT),
				CORS_ORIGINS: FRONTEND_URL,
				ACCESS_TOKEN_EXPIRATION: '3',
				// Every test signs up from 127.0.0.1: the per-address sign-up limit (20 an hour) is not under test.
				REGISTER_LIMIT_PER_IP: '1000',
				// Password hashing is not under test here (backend/tests does that): cheap Argon2id costs, as there.
				ARGON2_MEMORY_KIB: '1024',
				ARGON2_ITERATIONS: '1',
				// Every visit to /login starts a passkey sign-in (the username field's autofill) from 127.0.0.1.
				PASSKEY_START_LIMIT_PER_IP: '100000',
				// Passkeys: the relying party is `localhost`, and the page that runs the ceremonies is this one.
				WEBAUTHN_RP_ID: 'localhost',
				WEBAUTHN_ORIGIN: FRONTEND_URL,
				// Mail on (account recovery by email), into the sink; links point at the app under test.
				SMTP_URL: `smtp://127.0.0.1:${SMTP_PORT}`,
				MAIL_FROM: 'Latchkey <no-reply@latchkey.test>',
				APP_URL: FRONTEND_URL,
				// The OpenID Connect issuer (tests/e2e/oidc.spec.ts): the API's own address.
				PUBLIC_URL: API_URL,
				RUST_LOG: process.env.RUST_LOG ?? 'warn'
			}
		},
		{
			// Build with the e2e API URL baked in, then serve it like production would. E2E_PREBUILT: build/ was
			// just built for this API_URL (scripts/test-frontend counts that build as a check of its own).
			command:
				process.env.E2E_PREBUILT === '1'
					? `node tests/e2e/static-server.mjs ${FRONTEND_PORT}`
					: `npx vite build --logLevel warn && node tests/e2e/static-server.mjs ${FRONTEND_PORT}`,
			url: FRONTEND_URL,
			reuseExistingServer: false,
			timeout: 120_000,
			stdout: 'ignore',
			stderr: 'pipe',
			env: { VITE_API_URL: API_URL }
		}
	]
});

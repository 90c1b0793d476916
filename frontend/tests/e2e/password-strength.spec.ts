import { expect, test } from '@playwright/test';
import { uniqueUsername } from './helpers';

const apiRegister = (url: URL) =>
	url.pathname === '/register' && url.port === new URL(process.env.E2E_API_URL!).port;

/** Answers POST /register like the API's error funnel would, CORS headers included. */
function refuse(status: number, body: object, headers: Record<string, string> = {}) {
	return async (route: import('@playwright/test').Route) => {
		await route.fulfill({
			status,
			contentType: 'application/json',
			headers: {
				'Access-Control-Allow-Origin': route.request().headers()['origin'] ?? '*',
				'Access-Control-Allow-Credentials': 'true',
				'Access-Control-Expose-Headers': 'Retry-After',
				...headers
			},
			body: JSON.stringify(body)
		});
	};
}

test('the strength meter loads zxcvbn only when the password is first used, and reacts as one types', async ({
	page
}) => {
	const scripts: string[] = [];
	page.on('request', (r) => {
		if (r.resourceType() === 'script') scripts.push(r.url());
	});
	await page.goto('/register');
	await expect(page.getByRole('heading', { name: 'Create account' })).toBeVisible();
	await page.getByLabel('Username').fill('alice');
	const before = scripts.length;

	const password = page.getByLabel('Password', { exact: true });
	await password.fill('password1234');
	const meter = page.getByRole('meter', { name: 'Password strength' });
	await expect(meter).toHaveAttribute('aria-valuetext', /not strong enough/);
	// The dictionaries came in one lazily loaded chunk, after the page itself.
	expect(scripts.length).toBe(before + 1);
	await expect(password).toHaveAccessibleDescription(/Strength: .*not strong enough/);

	await password.fill('correct horse battery staple');
	await expect(meter).toHaveAttribute('aria-valuetext', 'Very strong');
	await expect(meter).toHaveAttribute('aria-valuenow', '4');

	await password.fill('alice-in-wonderland-1865');
	await expect(page.getByTestId('password-strength')).toContainText('Password must not contain your username.');
});

test('the server’s reason for refusing a password is shown on the password field', async ({ page }) => {
	await page.goto('/register');
	await page.route(
		apiRegister,
		refuse(400, {
			code: 'validation_failed',
			message: 'The request is invalid.',
			fields: [{ field: 'password', message: 'This password is too easy to guess. Add another word or two.' }]
		})
	);
	await page.getByLabel('Username').fill(uniqueUsername('weak'));
	await page.getByLabel('Password', { exact: true }).fill('tiger lily 1987!');
	await page.getByRole('button', { name: 'Create account' }).click();

	const password = page.getByLabel('Password', { exact: true });
	await expect(password).toHaveAttribute('aria-invalid', 'true');
	await expect(password).toBeFocused();
	await expect(page.locator('#password-error')).toHaveText(
		'This password is too easy to guess. Add another word or two.'
	);
});

test('a 429 on sign-up counts down from Retry-After', async ({ page }) => {
	await page.goto('/register');
	await page.route(
		apiRegister,
		refuse(429, { code: 'too_many_attempts', message: 'Too many sign-ups from this address.' }, { 'Retry-After': '90' })
	);
	await page.getByLabel('Username').fill(uniqueUsername('busy'));
	await page.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
	await page.getByRole('button', { name: 'Create account' }).click();

	await expect(page.getByRole('alert')).toContainText('Too many sign-ups from this address.');
	const countdown = page.getByTestId('retry-countdown');
	await expect(countdown).toHaveText(/^Try again in 1 minute (30|29|28) seconds$/);
	await expect(page.getByRole('button', { name: /Try again in/ })).toBeDisabled();
});

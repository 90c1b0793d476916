import { expect, test } from '@playwright/test';
import { signedOutCheck, signUp, uniqueUsername, waitForAccessTokenToExpire, watchConsole } from './helpers';

test('two tabs refreshing at the same moment both stay signed in, and a logout reaches both', async ({ context }) => {
	const username = uniqueUsername('tabs');
	const first = await context.newPage();
	const errors = watchConsole(first);
	await signUp(first, username);
	await first.goto('/account');
	const second = await context.newPage();
	const secondErrors = watchConsole(second);
	await second.goto('/account');
	await expect(second.getByRole('heading', { name: username })).toBeVisible();

	await waitForAccessTokenToExpire(first);
	const refreshes: { status: number; token: string }[] = [];
	context.on('response', async (r) => {
		if (new URL(r.url()).pathname !== '/refresh') return;
		const cookie = (await r.request().allHeaders()).cookie ?? '';
		refreshes.push({ status: r.status(), token: /(?:^|;\s*)refresh_token=([^;]*)/.exec(cookie)?.[1] ?? '' });
	});

	// Both tabs find the access token expired at once and need the one refresh token.
	await Promise.all([first.reload(), second.reload()]);

	for (const tab of [first, second]) {
		await expect(tab).toHaveURL('/account');
		await expect(tab.getByRole('heading', { name: username })).toBeVisible();
	}
	// Serialised by the Web Lock: the second tab reuses the first one's refresh instead of presenting the
	// same refresh token again. (On a slow machine the 3-second access token may run out again while the
	// account page loads, and a later refresh with the new token is fine.)
	expect(refreshes.length).toBeGreaterThanOrEqual(1);
	expect(refreshes.map((r) => r.status)).toEqual(refreshes.map(() => 200));
	expect(refreshes.every((r) => r.token)).toBe(true);
	expect(new Set(refreshes.map((r) => r.token)).size).toBe(refreshes.length);

	// And the session is still good afterwards.
	await first.reload();
	await expect(first.getByRole('heading', { name: username })).toBeVisible();
	// Nothing failed but the first tab's visit to /register, before signing up.
	expect([...errors, ...secondErrors]).toEqual(signedOutCheck());

	// Logging out in one tab signs the other out too; its protected page sends it to log in.
	await first.getByRole('main').getByRole('button', { name: 'Log out' }).click();
	await expect(first).toHaveURL('/');
	await expect(second).toHaveURL('/login?redirectTo=/account');
	await expect(second.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' })).toBeVisible();
});

import { expect, test } from '@playwright/test';
import { signedOutCheck, signUp, uniqueUsername, waitForAccessTokenToExpire, watchConsole } from './helpers';

test('two tabs refreshing at the same moment both stay signed in, and a logout reaches both', async ({ context }) => {
	const username = uniqueUsername('tabs');
	const first = await context.newPage();
	const errors = watchConsole(first);
	await signUp(first, username);
	await first.goto('/profile');
	const second = await context.newPage();
	const secondErrors = watchConsole(second);
	await second.goto('/profile');
	await expect(second.getByRole('heading', { name: username })).toBeVisible();

	await waitForAccessTokenToExpire(first);
	const refreshes: number[] = [];
	context.on('response', (r) => {
		if (new URL(r.url()).pathname === '/refresh') refreshes.push(r.status());
	});

	// Both tabs find the access token expired at once and need the one refresh token.
	await Promise.all([first.reload(), second.reload()]);

	for (const tab of [first, second]) {
		await expect(tab).toHaveURL('/profile');
		await expect(tab.getByRole('heading', { name: username })).toBeVisible();
	}
	// Serialised by the Web Lock: the second tab reuses the first one's refresh.
	expect(refreshes).toEqual([200]);

	// And the session is still good afterwards.
	await first.reload();
	await expect(first.getByRole('heading', { name: username })).toBeVisible();
	// Nothing failed but the first tab's visit to /register, before signing up.
	expect([...errors, ...secondErrors]).toEqual(signedOutCheck());

	// Logging out in one tab signs the other out too; its protected page sends it to log in.
	await first.getByRole('main').getByRole('button', { name: 'Log out' }).click();
	await expect(first).toHaveURL('/');
	await expect(second).toHaveURL('/login?redirectTo=/profile');
	await expect(second.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' })).toBeVisible();
});

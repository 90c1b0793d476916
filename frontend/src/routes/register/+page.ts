import { redirect } from '@sveltejs/kit';
import { get } from 'svelte/store';
import { AUTH_DEPENDENCY, leaveIfSignedIn } from '$lib/guards';
import { auth } from '$lib/stores/auth';
import { takeWelcome, welcomeUrl } from '$lib/welcome';

export const load = ({ url, depends }) => {
	depends(AUTH_DEPENDENCY);
	// The account just made here goes on through the post-sign-up prompt; anyone else signed in goes on.
	const { user } = get(auth);
	if (user && takeWelcome(user.username)) redirect(307, welcomeUrl(url.searchParams.get('redirectTo')));
	leaveIfSignedIn(url);
};

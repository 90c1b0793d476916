import { AUTH_DEPENDENCY, sayWhySignedOut } from '$lib/guards';
import '$lib/i18n.svelte';

// The app is a static single-page app: all rendering happens in the browser, which holds the session cookies.
export const ssr = false;
export const prerender = false;

export const load = ({ url, depends }) => {
	depends(AUTH_DEPENDENCY);
	sayWhySignedOut(url);
};

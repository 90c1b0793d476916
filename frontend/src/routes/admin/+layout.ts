import { AUTH_DEPENDENCY, requireSignedIn } from '$lib/guards';

export const load = ({ url, depends }) => {
	depends(AUTH_DEPENDENCY);
	requireSignedIn(url);
};

import { AUTH_DEPENDENCY, leaveIfSignedIn } from '$lib/guards';

export const load = ({ url, depends }) => {
	depends(AUTH_DEPENDENCY);
	leaveIfSignedIn(url);
};

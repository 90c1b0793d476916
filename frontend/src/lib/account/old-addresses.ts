/**
 * Where the old single account page (`/profile`) lives now. Its sections had the ids `sessions-title`,
 * `password-title`, `two-factor-title`, `passkeys-title`, `activity-title` and `delete-title`; a link to one
 * of them goes to the page that holds that section now, at that section. The query is kept.
 */
const SECTIONS: [prefix: string, path: string, keepFragment: boolean][] = [
	['#sessions', '/account/sessions', false],
	['#password', '/account/security', true],
	['#two-factor', '/account/security', true],
	['#passkeys', '/account/security', true],
	['#activity', '/account/activity', false],
	['#delete', '/account', true]
];

export function accountAddressFor(search: string, hash: string): string {
	const found = SECTIONS.find(([prefix]) => hash === prefix || hash.startsWith(`${prefix}-`));
	if (!found) return `/account${search}${hash}`;
	const [, path, keepFragment] = found;
	return `${path}${search}${keepFragment ? hash : ''}`;
}

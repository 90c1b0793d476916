/**
 * The account area's sections, in the order the navigation shows them. The navigation, the overview and the
 * tests read this list: a new section (an admin console, visible to administrators through `visible`) is one
 * entry here and one route under `src/routes/account`.
 * Nothing is listed before its page exists.
 */
import type { User } from '$lib/api/client';

/** The signed-in user as the auth store holds it, with its roles (from the sign-in's answer or `GET /profile`). */
type Viewer = User & { roles?: readonly string[] };
import { m } from '$lib/paraglide/messages';

export interface AccountSection {
	/** Names the section in ids and test ids. */
	id: string;
	href: string;
	label: () => string;
	/** What the section holds, in a line (the overview's cards). */
	summary: () => string;
	/** A 24×24 outline icon, as one SVG path. */
	icon: string;
	/** The overview matches its own address only; the others their address and everything under it. */
	exact?: boolean;
	/** Who sees it (e.g. administrators only); everyone when absent. */
	visible?: (user: Viewer) => boolean;
}

export const accountSections: readonly AccountSection[] = [
	{
		id: 'overview',
		href: '/account',
		label: m.nav_overview,
		summary: m.nav_overview_summary,
		icon: 'M3 10.5 12 3l9 7.5M5 9v11h5v-6h4v6h5V9',
		exact: true
	},
	{
		id: 'security',
		href: '/account/security',
		label: m.nav_security,
		summary: m.nav_security_summary,
		icon: 'M12 3 4.5 6v5.25c0 4.5 3.2 8.4 7.5 9.75 4.3-1.35 7.5-5.25 7.5-9.75V6L12 3Zm-3 9 2.25 2.25L15.5 10'
	},
	{
		id: 'sessions',
		href: '/account/sessions',
		label: m.nav_sessions,
		summary: m.nav_sessions_summary,
		icon: 'M3 5.25h13.5v9.75H3zM1.5 18h16.5M18.75 8.25h3.75V19.5h-3.75zM20.6 16.9v.01'
	},
	{
		id: 'apps',
		href: '/account/apps',
		label: m.nav_apps,
		summary: m.nav_apps_summary,
		icon: 'M4.5 4.5h6v6h-6zM13.5 4.5h6v6h-6zM4.5 13.5h6v6h-6zM16.5 13.5v6M13.5 16.5h6'
	},
	{
		id: 'activity',
		href: '/account/activity',
		label: m.nav_activity,
		summary: m.nav_activity_summary,
		icon: 'M12 6v6l4 2m5-2a9 9 0 1 1-18 0 9 9 0 0 1 18 0Z'
	},
	{
		// The operator console, its own area: shown once GET /profile has listed the admin role.
		id: 'admin',
		href: '/admin',
		label: m.nav_admin_section,
		summary: m.nav_admin_summary,
		icon: 'M4 6h16M4 12h16M4 18h10m3-2 2 2 3-3',
		visible: (user) => user.roles?.includes('admin') ?? false
	}
];

/** The sections `user` sees. */
export function sectionsFor(user: Viewer): AccountSection[] {
	return accountSections.filter((section) => section.visible?.(user) ?? true);
}

/** Whether `pathname` is in `section`. */
export function isCurrent(section: AccountSection, pathname: string): boolean {
	const path = pathname.replace(/\/+$/, '') || '/';
	return section.exact ? path === section.href : path === section.href || path.startsWith(`${section.href}/`);
}

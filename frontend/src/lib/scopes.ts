/**
 * What an OpenID Connect scope gives an application, as a sentence for the person deciding (the consent
 * page) or looking back (Connected apps). `openid` comes first, unknown scopes are named as they are.
 */
import { m } from '$lib/paraglide/messages';

const SENTENCES: Record<string, () => string> = {
	openid: m.scope_openid,
	profile: m.scope_profile,
	email: m.scope_email,
	offline_access: m.scope_offline_access
};

const ORDER = Object.keys(SENTENCES);

export function scopeSentences(scopes: readonly string[]): { scope: string; text: string }[] {
	const known = ORDER.filter((scope) => scopes.includes(scope));
	const other = scopes.filter((scope) => !(scope in SENTENCES));
	return [
		...known.map((scope) => ({ scope, text: SENTENCES[scope]() })),
		...[...new Set(other)].map((scope) => ({ scope, text: m.scope_other({ scope }) }))
	];
}

/**
 * The interface language: English or German, taken from the browser's preferred languages unless the
 * person picked one with the switch (kept in localStorage). Every string comes from one catalogue,
 * messages/{locale}.json, compiled by Paraglide JS into one function per message (`m.some_key()`), so a page
 * ships only the messages it uses. Those functions read the language through Paraglide's `getLocale`, which
 * here reads a `$state`: markup that calls `m.…()` updates the moment the language changes, without a reload.
 */
import { loadErrorWords } from '$lib/api/answer';
import { baseLocale, isLocale, locales, overwriteGetLocale, type Locale } from '$lib/paraglide/runtime';

export { locales, type Locale };

/** Where a language picked with the switch is kept. */
export const LOCALE_KEY = 'latchkey:locale';

/** Each language by its own name, as a switch shows it. */
export const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', de: 'Deutsch' };

/** The first of the browser's languages the catalogue has ("de-AT" reads as German), else English. */
export function negotiateLocale(preferred: readonly string[]): Locale {
	for (const tag of preferred) {
		const language = tag.trim().toLowerCase().split(/[-_]/)[0];
		if (isLocale(language)) return language;
	}
	return baseLocale;
}

function storage(): Storage | null {
	try {
		return globalThis.localStorage ?? null;
	} catch {
		return null;
	}
}

function chosen(): Locale | null {
	const value = storage()?.getItem(LOCALE_KEY);
	return value && isLocale(value) ? value : null;
}

function browserLocale(): Locale {
	const nav = globalThis.navigator;
	if (!nav) return baseLocale;
	return negotiateLocale(nav.languages?.length ? nav.languages : [nav.language ?? baseLocale]);
}

let current = $state<Locale>(chosen() ?? browserLocale());

function apply(locale: Locale) {
	current = locale;
	if (globalThis.document) document.documentElement.lang = locale;
	// The API's error codes in this language's words (English shows the API's own messages).
	if (locale !== baseLocale) void loadErrorWords().catch(() => {});
}

overwriteGetLocale(() => current);

/** The language in use, and the switch. */
export const i18n = {
	get locale(): Locale {
		return current;
	},
	/** Picks a language for good (this browser remembers it). */
	set(locale: Locale) {
		storage()?.setItem(LOCALE_KEY, locale);
		apply(locale);
	},
	/**
	 * Puts the language on `<html lang>` and, until one is picked, follows the browser's languages when they
	 * change. Returns the function that stops following.
	 */
	start(target: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> = globalThis): () => void {
		apply(current);
		const onChange = () => {
			if (!chosen()) apply(browserLocale());
		};
		target.addEventListener('languagechange', onChange);
		return () => target.removeEventListener('languagechange', onChange);
	}
};

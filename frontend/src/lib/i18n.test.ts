import { describe, expect, it } from 'vitest';
import { formatWait } from '$lib/api/format-wait';
import { m } from '$lib/paraglide/messages';
import { negotiateLocale } from './i18n.svelte';
import { fullDate, longDate, relativeTime } from './time';

const now = Date.parse('2026-12-02T12:00:00Z');

describe('negotiateLocale', () => {
	it.each([
		[['de-DE', 'en'], 'de'],
		[['de-AT'], 'de'],
		[['fr-FR', 'de'], 'de'],
		[['en-GB', 'de-DE'], 'en'],
		[['fr-FR', 'es'], 'en'],
		[[], 'en'],
		[['DE_ch'], 'de']
	])('%j → %s', (preferred, locale) => {
		expect(negotiateLocale(preferred)).toBe(locale);
	});
});

describe('dates and times per language', () => {
	it('reads a moment relative to now in the language asked for', () => {
		expect(relativeTime('2026-12-02T11:55:00Z', now, 'en')).toBe('5 minutes ago');
		expect(relativeTime('2026-12-02T11:55:00Z', now, 'de')).toBe('vor 5 Minuten');
		expect(relativeTime('2026-12-02T11:59:30Z', now, 'de')).toBe('gerade eben');
		expect(relativeTime('2026-12-01T10:00:00Z', now, 'de')).toBe('gestern');
	});

	it('writes dates the way each language does', () => {
		expect(longDate('2026-12-02T12:00:00Z', 'en', 'UTC')).toBe('December 2, 2026');
		expect(longDate('2026-12-02T12:00:00Z', 'de', 'UTC')).toBe('2. Dezember 2026');
		expect(fullDate('2026-12-02T14:05:00Z', 'de', 'UTC')).toBe('02.12.2026, 14:05');
	});
});

describe('the catalogue', () => {
	it('has every message in both languages, with the same placeholders', async () => {
		const { readFileSync } = await import('node:fs');
		const read = (locale: string) =>
			JSON.parse(readFileSync(new URL(`../../messages/${locale}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
		const [en, de] = [read('en'), read('de')];
		expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
		const placeholders = (value: unknown) => [...JSON.stringify(value).matchAll(/\{(\w+)\}/g)].map((x) => x[1]).sort();
		for (const key of Object.keys(en)) {
			expect([key, new Set(placeholders(de[key]))]).toEqual([key, new Set(placeholders(en[key]))]);
		}
	});

	it('counts with each language’s plural rules', () => {
		expect(m.recovery_codes_left({ count: 1 }, { locale: 'en' })).toBe('1 recovery code left.');
		expect(m.recovery_codes_left({ count: 9 }, { locale: 'de' })).toBe('Noch 9 Wiederherstellungscodes.');
		expect(formatWait(65)).toBe('1 minute 5 seconds');
	});
});

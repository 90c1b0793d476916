#!/usr/bin/env node
// Compiles the message catalogue (messages/{locale}.json, project.inlang/settings.json) into
// src/lib/paraglide/ with Paraglide JS: one tree-shakable function per message. Skips the work when the
// output is newer than every input, unless --force.
// Usage: node scripts/compile-messages.mjs [--force]
//
// The message-format plugin comes from node_modules (providePlugins) instead of the CDN URL inlang
// projects usually list in settings.json, so builds work offline and use the pinned version.
//
// Paraglide's runtime.js is replaced by a slim one: its locale strategies (cookie, URL patterns, request
// headers …) cost ~7 KB gzip on every page, cannot be tree-shaken (getLocale's default refers to them all),
// and the app does not use them: src/lib/i18n.svelte.ts decides the language. The message modules need only
// getLocale (and the types, kept from Paraglide's file).
import fs from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const project = join(root, 'project.inlang');
const outdir = join(root, 'src', 'lib', 'paraglide');
const stamp = join(outdir, 'messages.js');

function newestInput() {
	const inputs = [join(project, 'settings.json'), ...fs.readdirSync(join(root, 'messages')).map((f) => join(root, 'messages', f))];
	return Math.max(...inputs.map((f) => fs.statSync(f).mtimeMs), fs.statSync(fileURLToPath(import.meta.url)).mtimeMs);
}

/** The types and constants of Paraglide's runtime, with a getLocale that src/lib/i18n.svelte.ts sets. */
/** @param {string} original */
function slimRuntime(original) {
	const constant = (/** @type {string} */ name) => {
		const found = original.match(new RegExp(`^export const ${name} = .*$`, 'm'));
		if (!found) throw new Error(`Paraglide's runtime has no ${name} any more: update slimRuntime()`);
		return found[0];
	};
	const wanted = /@typedef \{[\s\S]*?\}\s+(Locale|LocalizedString|MessageMetadata|MessageMarkup\w*|MessagePart|MessageFunction)\s*\n/;
	const types = (original.match(/\/\*\*(?:(?!\*\/)[\s\S])*?\*\//g) ?? []).filter((/** @type {string} */ block) => wanted.test(block));
	return [
		'// @ts-check',
		'/* eslint-disable */',
		"// Written by scripts/compile-messages.mjs in place of Paraglide's runtime: the language is decided by",
		'// src/lib/i18n.svelte.ts through overwriteGetLocale.',
		constant('baseLocale'),
		constant('locales'),
		'export const experimentalStaticLocale = undefined;',
		'/** @type {() => Locale} */',
		'let current = () => baseLocale;',
		'/** @returns {Locale} */',
		'export const getLocale = () => current();',
		'/** @param {() => Locale} fn */',
		'export const overwriteGetLocale = (fn) => {',
		'\tcurrent = fn;',
		'};',
		'/**',
		' * @param {unknown} locale',
		' * @returns {locale is Locale}',
		' */',
		"export const isLocale = (locale) => typeof locale === 'string' && /** @type {readonly string[]} */ (locales).includes(locale);",
		...types,
		''
	].join('\n');
}

/** Whether src/lib/paraglide is newer than every input (cheap: no compiler loaded). */
export function messagesUpToDate() {
	return fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= newestInput();
}

export async function compileMessages({ force = false } = {}) {
	if (!force && messagesUpToDate()) return false;
	const [{ loadProjectFromDirectory }, { compileProject, writeOutput }, { default: messageFormat }] = await Promise.all([
		import('@inlang/sdk'),
		import('@inlang/paraglide-js'),
		// @ts-ignore: the plugin ships no type declarations
		import('@inlang/plugin-message-format')
	]);
	const loaded = await loadProjectFromDirectory({ path: project, fs, providePlugins: [messageFormat] });
	try {
		const errors = await loaded.errors.get();
		if (errors.length) throw new Error(`message catalogue: ${errors.map((e) => e.message).join('; ')}`);
		const output = await compileProject({
			project: loaded,
			compilerOptions: {
				// src/lib/i18n.svelte.ts replaces getLocale/setLocale; this is only the fallback chain.
				strategy: ['globalVariable', 'baseLocale'],
				emitReadme: false
			}
		});
		output['runtime.js'] = slimRuntime(output['runtime.js']);
		// Server middleware: this app renders in the browser only.
		delete output['server.js'];
		await writeOutput({ directory: outdir, output, fs: fs.promises });
	} finally {
		await loaded.close();
	}
	// writeOutput keeps unchanged files (and their times): mark the compile as done.
	const now = new Date();
	fs.utimesSync(stamp, now, now);
	return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const args = process.argv.slice(2);
	if (args.some((a) => a !== '--force')) {
		console.error('usage: node scripts/compile-messages.mjs [--force]');
		process.exit(2);
	}
	const compiled = await compileMessages({ force: args.includes('--force') });
	console.log(compiled ? 'messages: compiled into src/lib/paraglide' : 'messages: up to date');
	// The inlang SDK leaves a timer behind for half a minute: nothing is left to do.
	process.exit(0);
}

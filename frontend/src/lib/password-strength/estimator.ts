/**
 * zxcvbn-ts with the dictionaries that match the server's (the Rust `zxcvbn` crate carries the original
 * zxcvbn lists: common passwords, English Wikipedia words, first names; keyboard graphs). The much larger
 * `lastnames-en` and `commonWords-en` lists (about 475 KB gzipped) are left out, so the meter can be a little
 * more lenient than the server, which then says why it refuses. Still a few hundred kilobytes: only ever
 * loaded through `loadEstimator()` (a dynamic import), never imported statically.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs } from '@zxcvbn-ts/language-common';
import passwords from '@zxcvbn-ts/language-common/dist/passwords.json.mjs';
import firstnames from '@zxcvbn-ts/language-en/dist/firstnames.json.mjs';
import translations from '@zxcvbn-ts/language-en/dist/translations.mjs';
import wikipedia from '@zxcvbn-ts/language-en/dist/wikipedia.json.mjs';
import wordSequences from '@zxcvbn-ts/language-en/dist/wordSequences.json.mjs';

const zxcvbn = new ZxcvbnFactory({
	dictionary: {
		'passwords-common': passwords,
		'wikipedia-en': wikipedia,
		'firstnames-en': firstnames,
		...wordSequences
	},
	graphs: adjacencyGraphs,
	translations
});

export interface Estimate {
	score: number;
	warning: string | null;
	suggestions: string[];
}

export function estimate(password: string, userInputs: string[]): Estimate {
	const { score, feedback } = zxcvbn.check(password, userInputs);
	return { score, warning: feedback.warning, suggestions: feedback.suggestions };
}

// The zxcvbn-ts language packages ship each dictionary as its own module, typed only through their index;
// importing them one by one keeps the lazily loaded chunk to the lists the server's zxcvbn also uses.
declare module '@zxcvbn-ts/language-common/dist/*.json.mjs' {
	const words: string[];
	export default words;
}
declare module '@zxcvbn-ts/language-en/dist/wordSequences.json.mjs' {
	const sequences: Record<string, string[]>;
	export default sequences;
}
declare module '@zxcvbn-ts/language-en/dist/*.json.mjs' {
	const words: string[];
	export default words;
}
declare module '@zxcvbn-ts/language-en/dist/translations.mjs' {
	import type { TranslationKeys } from '@zxcvbn-ts/core';
	const translations: TranslationKeys;
	export default translations;
}

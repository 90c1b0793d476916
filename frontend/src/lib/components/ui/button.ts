// The primary button lives in a module of its own: the root layout (every page load) needs only it.
export { primaryButton } from './primary-button';
/** Classes for a secondary button (a bordered one, beside or below content). */
export const secondaryButton =
	'inline-flex items-center justify-center gap-2 rounded-lg border border-zinc-300 bg-white px-3 py-1.5 text-sm font-semibold text-zinc-800 shadow-xs transition hover:bg-zinc-100 disabled:cursor-wait disabled:opacity-60 dark:border-zinc-700 dark:bg-zinc-800 dark:text-zinc-100 dark:hover:bg-zinc-700';
/** Classes for a button that destroys something (in red, with the words saying what). */
export const dangerButton =
	'inline-flex items-center justify-center gap-2 rounded-lg border border-red-300 bg-white px-3 py-1.5 text-sm font-semibold text-red-800 shadow-xs transition hover:bg-red-50 disabled:cursor-wait disabled:opacity-60 dark:border-red-800 dark:bg-zinc-900 dark:text-red-300 dark:hover:bg-red-950/50';
/** Classes for an inline text link. */
export const textLink =
	'font-semibold text-indigo-700 underline-offset-4 hover:underline dark:text-indigo-300';

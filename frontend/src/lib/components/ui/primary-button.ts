/**
 * Classes for a primary button (the main action of a form or a page). Apart from button.ts, which re-exports
 * it, so the root layout imports this alone and the other button styles load with the pages that use them.
 */
export const primaryButton =
	'inline-flex items-center justify-center gap-2 rounded-lg bg-indigo-600 px-5 py-2.5 text-base font-semibold text-white shadow-sm transition hover:bg-indigo-500 disabled:opacity-75 dark:bg-indigo-500 dark:hover:bg-indigo-600';

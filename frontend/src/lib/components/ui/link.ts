/** Classes for an inline text link. */
export const textLink =
	'font-semibold text-indigo-600 underline-offset-4 hover:underline focus-visible:rounded focus-visible:ring-3 focus-visible:ring-indigo-500/40 focus-visible:outline-none dark:text-indigo-400';

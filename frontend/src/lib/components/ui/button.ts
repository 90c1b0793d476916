/** Classes for a secondary button (a bordered one, beside or below content). */
export const secondaryButton =
	'inline-flex items-center justify-center gap-2 rounded-lg border border-zinc-300 bg-white px-3 py-1.5 text-sm font-semibold text-zinc-800 shadow-xs transition hover:bg-zinc-100 focus-visible:ring-3 focus-visible:ring-indigo-500/40 focus-visible:outline-none disabled:cursor-wait disabled:opacity-60 dark:border-zinc-700 dark:bg-zinc-800 dark:text-zinc-100 dark:hover:bg-zinc-700';

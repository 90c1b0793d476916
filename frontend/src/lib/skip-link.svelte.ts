/**
 * Where the page's "Skip to content" link leads: `<main>` by default; a page with its own navigation before
 * its content (the account area) points it past that navigation while it is shown.
 */
export const skipLink = $state({ target: 'main' });

/** Points the skip link at `id` until the returned function is called. */
export function skipTo(id: string): () => void {
	skipLink.target = id;
	return () => {
		if (skipLink.target === id) skipLink.target = 'main';
	};
}

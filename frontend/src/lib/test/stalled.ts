/**
 * A fetch that never answers, as a stalled server does: it settles only when its request is aborted, and at once
 * when the request was aborted before it got here, as `fetch` does. (Listening for `abort` alone hangs forever on a
 * loaded machine, where a 30 ms timeout may fire before the fake is even called.)
 */
export function stalled(request: Request): Promise<Response> {
	return new Promise((_, reject) => {
		if (request.signal.aborted) reject(request.signal.reason);
		else request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true });
	});
}

/**
 * Requests the fake holds until they settle: a fetch in flight is kept alive by its connection, and so must these
 * be. undici links a `Request`'s signal to the signal it follows only weakly, so a `Request` nobody holds is
 * collected and the abort no longer reaches it (nodejs/node#55428): the fake then waited forever. That was the
 * hang of full Vitest runs, where the heap is larger and collections come at other moments than in one file's run.
 */
const inFlight = new Set<Request>();

/**
 * A fetch that never answers, as a stalled server does: it settles only when its request is aborted, and at once
 * when the request was aborted before it got here, as `fetch` does. (Listening for `abort` alone hangs forever on a
 * loaded machine, where a 30 ms timeout may fire before the fake is even called.)
 */
export function stalled(request: Request): Promise<Response> {
	inFlight.add(request);
	return new Promise((_, reject) => {
		const settle = () => {
			inFlight.delete(request);
			reject(request.signal.reason);
		};
		if (request.signal.aborted) settle();
		else request.signal.addEventListener('abort', settle, { once: true });
	});
}

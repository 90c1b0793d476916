import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { withTimeout } from '$lib/api/refresh';
import { stalled } from './stalled';

// A garbage collection on demand (what `node --expose-gc` gives), for the one thing this fake must survive.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('the stalled-server fake', () => {
	it('still hears its timeout after a garbage collection, as a request in flight does', async () => {
		const pending = withTimeout(stalled, 50)(new Request('http://localhost/refresh', { method: 'POST' }));
		// Listening before anything else: on a starved machine the 10 ms below can outlast the 50 ms timeout,
		// and a rejection nobody listens for yet is an unhandled one.
		const timedOut = expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
		collectGarbage();
		await new Promise((resolve) => setTimeout(resolve, 10));
		collectGarbage();

		await timedOut;
	});
});

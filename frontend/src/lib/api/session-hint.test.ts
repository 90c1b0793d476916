import { describe, expect, it } from 'vitest';
import { createSessionHint, SESSION_HINT_KEY, type HintStorage } from './session-hint';

function storage(): HintStorage & { values: Map<string, string> } {
	const values = new Map<string, string>();
	return {
		values,
		getItem: (key) => values.get(key) ?? null,
		setItem: (key, value) => void values.set(key, value),
		removeItem: (key) => void values.delete(key)
	};
}

const T0 = Date.parse('2026-11-29T12:00:00Z');
const session = {
	access_token_expires_at: '2026-11-29T12:15:00Z',
	refresh_token_expires_at: '2026-12-29T12:00:00Z'
};

describe('session hint', () => {
	it('knows there is no session before any sign-in', () => {
		const hint = createSessionHint(storage());
		expect(hint.maybeSignedIn(T0)).toBe(false);
		expect(hint.accessExpired(T0)).toBe(false);
	});

	it('tracks the access token’s expiry from a login or refresh answer', () => {
		const hint = createSessionHint(storage());
		hint.save(session, T0);

		expect(hint.maybeSignedIn(T0)).toBe(true);
		expect(hint.accessExpired(T0 + 60_000)).toBe(false);
		expect(hint.accessExpired(T0 + 15 * 60_000)).toBe(true);
	});

	it('knows the session is gone once the refresh token has expired', () => {
		const hint = createSessionHint(storage());
		hint.save(session, T0);

		const later = Date.parse('2026-12-30T00:00:00Z');
		expect(hint.maybeSignedIn(later)).toBe(false);
		expect(hint.accessExpired(later)).toBe(false);
	});

	it('is shared through storage, as tabs share localStorage', () => {
		const shared = storage();
		createSessionHint(shared).save(session, T0);

		expect(createSessionHint(shared).maybeSignedIn(T0)).toBe(true);
		createSessionHint(shared).clear();
		expect(createSessionHint(shared).maybeSignedIn(T0)).toBe(false);
	});

	it('stops comparing times when this clock runs ahead of the server by more than a token lifetime', () => {
		const hint = createSessionHint(storage());
		const clockAhead = Date.parse('2026-11-29T13:00:00Z');
		hint.save(session, clockAhead);

		// Never refresh ahead of time on a clock that would make every request refresh first…
		expect(hint.accessExpired(clockAhead)).toBe(false);
		// …but don't claim to be signed out either: let the API decide.
		expect(hint.maybeSignedIn(Date.parse('2027-06-01T00:00:00Z'))).toBe(true);
	});

	it('ignores garbage in storage', () => {
		const s = storage();
		s.values.set(SESSION_HINT_KEY, '{not json');
		expect(createSessionHint(s).maybeSignedIn(T0)).toBe(false);
	});
});

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
	it('asks for no early refresh before any sign-in', () => {
		const hint = createSessionHint(storage());
		expect(hint.accessExpired(T0)).toBe(false);
		expect(hint.accessExpired(T0 + 15 * 60_000)).toBe(false);
	});

	it('tracks the access token’s expiry from a login or refresh answer', () => {
		const hint = createSessionHint(storage());
		hint.save(session, T0);

		expect(hint.accessExpired(T0 + 60_000)).toBe(false);
		expect(hint.accessExpired(T0 + 15 * 60_000)).toBe(true);
	});

	it('asks for no early refresh once the refresh token has expired too', () => {
		const hint = createSessionHint(storage());
		hint.save(session, T0);

		expect(hint.accessExpired(Date.parse('2026-12-30T00:00:00Z'))).toBe(false);
	});

	it('is shared through storage, as tabs share localStorage', () => {
		const shared = storage();
		createSessionHint(shared).save(session, T0);

		const late = T0 + 15 * 60_000;
		expect(createSessionHint(shared).accessExpired(late)).toBe(true);
		createSessionHint(shared).clear();
		expect(createSessionHint(shared).accessExpired(late)).toBe(false);
		expect(shared.values.has(SESSION_HINT_KEY)).toBe(false);
	});

	it('stops comparing times when this clock runs ahead of the server by more than a token lifetime', () => {
		const hint = createSessionHint(storage());
		const clockAhead = Date.parse('2026-11-29T13:00:00Z');
		hint.save(session, clockAhead);

		// Never refresh ahead of time on a clock that would make every request refresh first: 401s decide.
		expect(hint.accessExpired(clockAhead)).toBe(false);
		expect(hint.accessExpired(clockAhead + 15 * 60_000)).toBe(false);
	});

	it('ignores garbage in storage', () => {
		const s = storage();
		s.values.set(SESSION_HINT_KEY, '{not json');
		expect(createSessionHint(s).accessExpired(T0 + 15 * 60_000)).toBe(false);
	});
});

/**
 * What this browser knows about its session without seeing the HttpOnly cookies: the expiry times the
 * API returned from `/login` and `/refresh`, kept in localStorage so every tab shares them.
 *
 * It is a hint, never authority: it only lets the app renew an access token it knows has expired before
 * using it, instead of waiting for the 401. It never decides whether anyone is signed in (the cookies may
 * be valid without it, with storage blocked or cleared, or after a logout that failed): the app asks `/profile`.
 * Its removal is also how a tab tells the others that the server ended the session (see the auth store).
 */

export interface SessionTimes {
	access_token_expires_at: string;
	refresh_token_expires_at: string;
}

export interface SessionHint {
	/** Records a fresh session; `now` is the local time the API's answer arrived. */
	save(session: SessionTimes, now: number): void;
	clear(): void;
	/** True when the access token has certainly expired and a refresh token should still work. */
	accessExpired(now: number): boolean;
}

interface Stored {
	access: number;
	refresh: number;
	/** False when the local clock disagrees with the server's by more than a token lifetime. */
	reliable: boolean;
}

export const SESSION_HINT_KEY = 'latchkey:session';

/** Renew this long before the server's deadline, so a request in flight doesn't arrive just too late. */
const MARGIN_MS = 500;

export interface HintStorage {
	getItem(key: string): string | null;
	setItem(key: string, value: string): void;
	removeItem(key: string): void;
}

function memoryStorage(): HintStorage {
	const values = new Map<string, string>();
	return {
		getItem: (key) => values.get(key) ?? null,
		setItem: (key, value) => void values.set(key, value),
		removeItem: (key) => void values.delete(key)
	};
}

function browserStorage(): HintStorage {
	try {
		const storage = globalThis.localStorage;
		if (storage) return storage;
	} catch {
		// Storage disabled by privacy settings: the hint lives as long as the tab.
	}
	return memoryStorage();
}

export function createSessionHint(storage: HintStorage = browserStorage()): SessionHint {
	function read(): Stored | null {
		try {
			const value = JSON.parse(storage.getItem(SESSION_HINT_KEY) ?? 'null');
			if (value && typeof value.access === 'number' && typeof value.refresh === 'number') return value;
		} catch {
			// Unreadable: treat as absent.
		}
		return null;
	}

	return {
		save(session, now) {
			const access = Date.parse(session.access_token_expires_at);
			const refresh = Date.parse(session.refresh_token_expires_at);
			if (Number.isNaN(access) || Number.isNaN(refresh)) return storage.removeItem(SESSION_HINT_KEY);
			// A token that is already expired on arrival means this clock runs ahead of the server's:
			// then times can't be compared, and the app relies on 401s alone.
			const stored: Stored = { access, refresh, reliable: access > now };
			storage.setItem(SESSION_HINT_KEY, JSON.stringify(stored));
		},
		clear() {
			storage.removeItem(SESSION_HINT_KEY);
		},
		accessExpired(now) {
			const stored = read();
			if (!stored?.reliable) return false;
			return now >= stored.access - MARGIN_MS && now < stored.refresh;
		}
	};
}

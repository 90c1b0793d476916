/**
 * The password strength the server enforces on a new password, estimated in the browser for a live meter:
 * zxcvbn with the username as a known input, a minimum score (`PASSWORD_MIN_SCORE` on the server, default
 * 3), and no password containing the username. The server uses the Rust `zxcvbn` crate, whose dictionaries
 * differ a little from zxcvbn-ts's, so the meter advises and the server decides (its reason is shown).
 */
import { codePointLength, USERNAME_MIN_LENGTH } from '$lib/validation';
import type { Estimate } from './estimator';
import { m } from '$lib/paraglide/messages';
import { baseLocale, getLocale } from '$lib/paraglide/runtime';

export type Estimator = (password: string, userInputs: string[]) => Estimate;

/** The server's default `PASSWORD_MIN_SCORE`; a deployment that changes it sets `VITE_PASSWORD_MIN_SCORE`. */
export const PASSWORD_MIN_SCORE = Number(import.meta.env.VITE_PASSWORD_MIN_SCORE ?? 3);

export const containsUsernameMessage = () => m.strength_contains_username();

export interface Strength {
	/** zxcvbn's score, 0 (guessable) to 4 (very unguessable); 0 when the password contains the username. */
	score: number;
	/** What a person reads: "Very weak", "Weak", "Fair", "Strong", "Very strong". */
	label: string;
	/** Whether the server should accept it (the same rules, the server's scoring decides). */
	acceptable: boolean;
	/** Why it is weak and what would help, in plain words; empty when there is nothing to say. */
	advice: string;
}

const LABELS = [m.strength_0, m.strength_1, m.strength_2, m.strength_3, m.strength_4];

export function rate(
	estimate: Estimator,
	password: string,
	username: string,
	minScore: number = PASSWORD_MIN_SCORE
): Strength {
	// A name too short to be valid says nothing yet ("a" is in most passwords).
	const name = codePointLength(username.trim()) >= USERNAME_MIN_LENGTH ? username.trim().toLowerCase() : '';
	if (name && password.toLowerCase().includes(name)) {
		return { score: 0, label: LABELS[0](), acceptable: false, advice: containsUsernameMessage() };
	}
	const { score, warning, suggestions } = estimate(password, name ? [name] : []);
	const acceptable = score >= minScore;
	// The warning says what is wrong; the suggestions only matter while the password is not good enough.
	// zxcvbn's own words are English: other languages get the meter's general advice instead.
	const english = getLocale() === baseLocale;
	const advice = english ? [warning, ...(acceptable ? [] : suggestions)].filter(Boolean).join(' ') : '';
	return { score, label: (LABELS[score] ?? LABELS[0])(), acceptable, advice };
}

let loading: Promise<Estimator> | null = null;

/** Loads zxcvbn-ts and its dictionaries once, on first use (a separate chunk: the first page stays small). */
export function loadEstimator(): Promise<Estimator> {
	loading ??= import('./estimator').then(
		(module) => module.estimate,
		(error: unknown) => {
			// A failed download may succeed later: let the next caller try again.
			loading = null;
			throw error;
		}
	);
	return loading;
}

/**
 * RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30-second steps: what authenticator apps do), for tests that play
 * the authenticator app: the e2e suite computes the codes it types. Node only (node:crypto).
 */
import { createHmac } from 'node:crypto';

export const STEP_SECONDS = 30;

/** RFC 4648 base32 (the `secret` of an `otpauth://` URI), ignoring spaces, case and padding. */
export function base32Decode(text: string): Buffer {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	const clean = text.toUpperCase().replace(/[\s=]/g, '');
	let bits = 0;
	let value = 0;
	const out: number[] = [];
	for (const char of clean) {
		const index = alphabet.indexOf(char);
		if (index < 0) throw new Error(`not base32: ${char}`);
		value = (value << 5) | index;
		bits += 5;
		if (bits >= 8) {
			out.push((value >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

/** RFC 4226 HOTP with dynamic truncation. */
export function hotp(key: Buffer, counter: number, digits = 6, algorithm = 'sha1'): string {
	const message = Buffer.alloc(8);
	message.writeBigUInt64BE(BigInt(counter));
	const mac = createHmac(algorithm, key).update(message).digest();
	const offset = mac[mac.length - 1] & 0x0f;
	const binary = mac.readUInt32BE(offset) & 0x7fffffff;
	return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step a moment falls in. */
export function stepAt(ms: number): number {
	return Math.floor(ms / 1000 / STEP_SECONDS);
}

/** The code for a base32 secret at a given step (the current one by default). */
export function totp(secret: string, step = stepAt(Date.now())): string {
	return hotp(base32Decode(secret), step);
}

/**
 * An authenticator app that, like the server, never uses a step twice: each `next()` returns a code for a
 * step after the last one used, within the server's ±1 step of skew, waiting for the clock when needed.
 */
export class Authenticator {
	#last = Number.NEGATIVE_INFINITY;
	constructor(readonly secret: string) {}

	async next(): Promise<string> {
		for (;;) {
			const now = stepAt(Date.now());
			const step = Math.max(now, this.#last + 1);
			// Step now + 1 is accepted (skew) but risky at the edge of a window; wait instead of going further.
			if (step <= now + 1) {
				this.#last = step;
				return totp(this.secret, step);
			}
			await new Promise((resolve) => setTimeout(resolve, 1000));
		}
	}
}

import { rmSync } from 'node:fs';

/** Removes the run's scratch directory (the SQLite database) made by playwright.config.ts. */
export default function globalTeardown(): void {
	const dir = process.env.LATCHKEY_E2E_DIR;
	if (dir?.includes('latchkey-e2e-')) rmSync(dir, { recursive: true, force: true });
}

import { defineConfig } from 'vitest/config';
import tailwindcss from '@tailwindcss/vite';
import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { svelteTesting } from '@testing-library/svelte/vite';
import { execFileSync } from 'node:child_process';
import type { Plugin } from 'vite';
import { messagesUpToDate } from './scripts/compile-messages.mjs';

/**
 * Compiles the message catalogue (messages/*.json) into src/lib/paraglide before a build, a dev server or a
 * test run, and again when a catalogue changes under the dev server. In a child process: the inlang SDK
 * keeps its process alive for a while after the work.
 */
function messages(): Plugin {
	const compile = () => {
		if (!messagesUpToDate()) execFileSync(process.execPath, ['scripts/compile-messages.mjs'], { stdio: 'inherit' });
	};
	return {
		name: 'latchkey-messages',
		buildStart: compile,
		configureServer(server) {
			server.watcher.add(['messages', 'project.inlang/settings.json']);
			server.watcher.on('change', (file) => {
				if (/[/\\]messages[/\\][^/\\]+\.json$|settings\.json$/.test(file)) compile();
			});
		}
	};
}

export default defineConfig({
	plugins: [
		messages(),
		tailwindcss(),
		sveltekit({
			compilerOptions: {
				// Runes everywhere except in libraries.
				runes: ({ filename }) =>
					filename.split(/[/\\]/).includes('node_modules') ? undefined : true
			},
			// A single-page app: every unknown path gets index.html and the client router takes over. BUILD_DIR
			// puts a build elsewhere than build/ (scripts/test-oidc builds one for its own API address).
			adapter: adapter({
				pages: process.env.BUILD_DIR || 'build',
				assets: process.env.BUILD_DIR || 'build',
				fallback: 'index.html'
			})
		})
	],
	build: {
		// SvelteKit's own write step dominates and is expected; the timing warning is noise.
		rolldownOptions: { checks: { bundlerTimings: false } }
	},
	test: {
		expect: { requireAssertions: true },
		// scripts/test runs Vitest beside the browser suite and the backend tests on two cores; a test's
		// own clock (fake timers, 30 ms timeouts) decides what it checks, so the runner's limit is only a
		// guard against a hang, not 5 s of a starved CPU.
		testTimeout: 30_000,
		hookTimeout: 30_000,
		// Worker threads, not child processes: the same 308 tests for about 65 CPU-seconds instead of 80-90
		// (measured alone), most of it module imports, which a thread starts faster.
		pool: 'threads',
		// One module graph (and one jsdom) per worker for all its test files, not one per file: the 308 tests
		// took 22 CPU-seconds instead of 60, the difference almost all re-importing the same modules. The files
		// leave nothing behind for the next (stubbed globals are unstubbed after each test, module mocks are
		// Vitest's, per file); three runs in shuffled orders (`--sequence.shuffle`) passed. A test that needs
		// fresh modules would go in a project of its own with `isolate: true`.
		isolate: false,
		projects: [
			{
				extends: './vite.config.ts',
				test: {
					name: 'unit',
					environment: 'node',
					include: ['src/**/*.test.ts'],
					exclude: ['src/**/*.svelte.test.ts']
				}
			},
			{
				extends: './vite.config.ts',
				plugins: [svelteTesting()],
				test: {
					name: 'component',
					environment: 'jsdom',
					setupFiles: ['src/lib/test/setup-dom.ts'],
					include: ['src/**/*.svelte.test.ts']
				}
			}
		]
	}
});

// Serves the built single-page app (build/) with an index.html fallback, as a production host would.
// Usage: node tests/e2e/static-server.mjs [port]   (default: $PORT or 4173; binds localhost; serves
// $STATIC_ROOT instead of build/ when set)
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.env.STATIC_ROOT || fileURLToPath(new URL('../../build', import.meta.url)));
const port = Number(process.argv[2] ?? process.env.PORT ?? 4173);
const host = process.env.HOST ?? 'localhost';

const types = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.ico': 'image/x-icon',
	'.txt': 'text/plain; charset=utf-8',
	'.woff2': 'font/woff2'
};

async function fileFor(pathname) {
	const candidate = normalize(join(root, decodeURIComponent(pathname)));
	if (!candidate.startsWith(root)) return null;
	try {
		const info = await stat(candidate);
		if (info.isFile()) return candidate;
		if (info.isDirectory()) {
			const index = join(candidate, 'index.html');
			if ((await stat(index).catch(() => null))?.isFile()) return index;
		}
	} catch {
		// Not a file: fall through to the SPA fallback.
	}
	return null;
}

createServer(async (req, res) => {
	const { pathname } = new URL(req.url ?? '/', 'http://localhost');
	const file = (await fileFor(pathname)) ?? join(root, 'index.html');
	const immutable = pathname.startsWith('/_app/immutable/');
	res.writeHead(200, {
		'Content-Type': types[extname(file)] ?? 'application/octet-stream',
		'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache'
	});
	createReadStream(file).pipe(res);
}).listen(port, host, () => {
	console.log(`serving ${root} on http://${host}:${port}`);
});

// Latchkey's discovery document beside the one oidc-provider (the Node reference implementation) publishes
// for the same features (reference-provider.mjs). Every difference must be listed, with why, in
// docs/oidc-discovery-differences.md (a table whose first column is the `key`); an undocumented one fails.
// Endpoint URLs are compared by presence (each server chooses its paths), arrays as sets.
// Usage: node compare-discovery.mjs ISSUER DOC   Last line: `N passed, M failed`.
import { readFileSync } from 'node:fs';
import { startReferenceProvider } from './reference-provider.mjs';

const [issuer, docPath] = process.argv.slice(2);

async function discovery(base) {
	const response = await fetch(`${base}/.well-known/openid-configuration`);
	if (!response.ok) throw new Error(`${base}: ${response.status}`);
	return response.json();
}

function normalize(key, value) {
	if (typeof value === 'string' && (key.endsWith('_endpoint') || key === 'jwks_uri')) return '(an endpoint)';
	if (key === 'issuer') return '(the issuer)';
	if (Array.isArray(value)) return JSON.stringify([...new Set(value.map(String))].sort());
	return JSON.stringify(value);
}

/** The keys docs/oidc-discovery-differences.md lists: the first backticked word of each table row. */
function documented(path) {
	const keys = new Set();
	for (const line of readFileSync(path, 'utf8').split('\n')) {
		const match = /^\|\s*`([a-z0-9_]+)`/.exec(line);
		if (match) keys.add(match[1]);
	}
	return keys;
}

const ours = await discovery(issuer);
const reference = await startReferenceProvider();
let theirs;
try {
	theirs = await discovery(reference.issuer);
} finally {
	await reference.stop();
}

const listed = documented(docPath);
const differences = [];
for (const key of [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].sort()) {
	const a = key in ours ? normalize(key, ours[key]) : '(absent)';
	const b = key in theirs ? normalize(key, theirs[key]) : '(absent)';
	if (a !== b) differences.push({ key, latchkey: a, reference: b });
}

let failed = 0;
for (const d of differences) {
	const ok = listed.has(d.key);
	if (!ok) failed += 1;
	console.log(`${ok ? 'documented' : 'UNDOCUMENTED'} - ${d.key}: Latchkey ${d.latchkey}, oidc-provider ${d.reference}`);
}
for (const key of listed) {
	if (!differences.some((d) => d.key === key)) console.log(`note - ${key} is documented as a difference but is none now`);
}
console.log(`${differences.length} differences, ${failed} undocumented`);
console.log(failed === 0 ? '1 passed, 0 failed' : '0 passed, 1 failed');
process.exit(failed === 0 ? 0 : 1);

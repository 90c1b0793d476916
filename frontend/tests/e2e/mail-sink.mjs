/**
 * A tiny SMTP sink for the e2e tests: speaks enough SMTP for lettre (EHLO/HELO, MAIL, RCPT, DATA, RSET,
 * NOOP, QUIT, no TLS, no AUTH), keeps every message in memory, and serves them as JSON over HTTP:
 * `GET /messages?to=ADDR` (newest last), each `{from, to, data, text}` with `text` the decoded bodies.
 *
 * Usage: node tests/e2e/mail-sink.mjs SMTP_PORT HTTP_PORT
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';

const [smtpPort, httpPort] = process.argv.slice(2).map(Number);
if (!smtpPort || !httpPort) {
	console.error('usage: node tests/e2e/mail-sink.mjs SMTP_PORT HTTP_PORT');
	process.exit(2);
}

/** @type {{from: string, to: string[], data: string, text: string}[]} */
const messages = [];

/** Quoted-printable to text (soft line breaks dropped, `=XX` as UTF-8 bytes). */
export function decodeQuotedPrintable(body) {
	const bytes = [];
	const soft = body.replace(/=\r?\n/g, '');
	for (let i = 0; i < soft.length; i++) {
		const hex = soft.slice(i + 1, i + 3);
		if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
			bytes.push(parseInt(hex, 16));
			i += 2;
		} else bytes.push(...Buffer.from(soft[i], 'utf8'));
	}
	return Buffer.from(bytes).toString('utf8');
}

/** Every part's body, decoded (quoted-printable or base64), joined: enough to find a link in. */
function decodeMessage(data) {
	const parts = data.split(/\r?\n--[^\r\n]*\r?\n/);
	return parts
		.map((part) => {
			const split = part.search(/\r?\n\r?\n/);
			if (split < 0) return part;
			const headers = part.slice(0, split);
			const body = part.slice(split).trim();
			const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
			if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
			if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
			return body;
		})
		.join('\n');
}

createTcpServer((socket) => {
	socket.setEncoding('utf8');
	let buffer = '';
	let envelope = { from: '', to: [] };
	let inData = false;
	const reply = (line) => socket.write(`${line}\r\n`);
	reply('220 mail-sink ESMTP');
	socket.on('data', (chunk) => {
		buffer += chunk;
		for (;;) {
			if (inData) {
				const end = buffer.indexOf('\r\n.\r\n');
				if (end < 0) return;
				const data = buffer.slice(0, end).replace(/^\r\n/, '').replace(/^\.\./gm, '.');
				buffer = buffer.slice(end + 5);
				inData = false;
				messages.push({ ...envelope, data, text: decodeMessage(data) });
				envelope = { from: '', to: [] };
				reply('250 OK: queued');
				continue;
			}
			const newline = buffer.indexOf('\r\n');
			if (newline < 0) return;
			const line = buffer.slice(0, newline);
			buffer = buffer.slice(newline + 2);
			const verb = line.slice(0, 4).toUpperCase();
			if (verb === 'EHLO') socket.write('250-mail-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
			else if (verb === 'HELO') reply('250 mail-sink');
			else if (verb === 'MAIL') {
				envelope = { from: /<(.*)>/.exec(line)?.[1] ?? '', to: [] };
				reply('250 OK');
			} else if (verb === 'RCPT') {
				envelope.to.push(/<(.*)>/.exec(line)?.[1] ?? '');
				reply('250 OK');
			} else if (verb === 'DATA') {
				inData = true;
				reply('354 End data with <CR><LF>.<CR><LF>');
				// The terminator of an empty body directly follows.
				buffer = '\r\n' + buffer;
			} else if (verb === 'RSET') {
				envelope = { from: '', to: [] };
				reply('250 OK');
			} else if (verb === 'NOOP') reply('250 OK');
			else if (verb === 'QUIT') {
				reply('221 Bye');
				socket.end();
				return;
			} else reply('502 Command not implemented');
		}
	});
	socket.on('error', () => {});
}).listen(smtpPort, '127.0.0.1');

createHttpServer((request, response) => {
	const url = new URL(request.url ?? '/', 'http://localhost');
	if (url.pathname === '/health') return response.end('ok');
	if (url.pathname !== '/messages') {
		response.statusCode = 404;
		return response.end();
	}
	const to = url.searchParams.get('to')?.toLowerCase();
	const found = to ? messages.filter((m) => m.to.some((t) => t.toLowerCase() === to)) : messages;
	response.setHeader('Content-Type', 'application/json');
	response.end(JSON.stringify(found));
}).listen(httpPort, '127.0.0.1');

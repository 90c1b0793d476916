// oidc-provider (the Node reference implementation), configured with the features Latchkey offers: the code
// flow with PKCE (S256, required), refresh tokens (offline_access), revocation, introspection, userinfo and
// RP-initiated logout, the same scopes and claims, the same client authentication methods and ID token
// algorithms. Its discovery document is what Latchkey's is compared with (compare-discovery.mjs).
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

function jwk(type, options, alg) {
	const { privateKey } = generateKeyPairSync(type, options);
	return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: alg };
}

/** Starts the reference provider on 127.0.0.1 (a free port); returns its issuer and a stop function. */
export async function startReferenceProvider() {
	const keys = [
		jwk('rsa', { modulusLength: 2048 }, 'RS256'),
		jwk('ec', { namedCurve: 'P-256' }, 'ES256'),
		jwk('ed25519', {}, 'EdDSA')
	];
	const server = createServer();
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const issuer = `http://127.0.0.1:${server.address().port}`;
	const provider = new Provider(issuer, {
		jwks: { keys },
		clients: [
			{
				client_id: 'reference',
				client_secret: 'reference-secret-reference-secret',
				redirect_uris: ['http://127.0.0.1/callback'],
				post_logout_redirect_uris: ['http://127.0.0.1/signed-out']
			}
		],
		responseTypes: ['code'],
		pkce: { required: () => true },
		scopes: ['openid', 'profile', 'email', 'offline_access'],
		claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email', 'email_verified'] },
		clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
		enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'] },
		features: {
			devInteractions: { enabled: false },
			introspection: { enabled: true },
			revocation: { enabled: true },
			rpInitiatedLogout: { enabled: true },
			userinfo: { enabled: true },
			// On by default in oidc-provider 9, and not features Latchkey offers.
			pushedAuthorizationRequests: { enabled: false },
			dPoP: { enabled: false }
		}
	});
	server.on('request', provider.callback());
	return { issuer, stop: () => new Promise((resolve) => server.close(resolve)) };
}

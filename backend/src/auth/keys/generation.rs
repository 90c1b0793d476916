//! New key pairs, and the `jsonwebtoken` keys made from a stored one.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::{JwtAlgorithm, PublicJwk};
use crate::auth::{AuthError, secrets::random_bytes};

/// A new private key (PKCS#8 DER, or raw bytes for HS256) and its public JWK.
pub(super) fn generate(algorithm: JwtAlgorithm) -> Result<(Vec<u8>, Option<PublicJwk>), AuthError> {
    match algorithm {
        JwtAlgorithm::EdDsa => {
            use ed25519_dalek::pkcs8::EncodePrivateKey as _;
            let key = ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>()?);
            let der = key
                .to_pkcs8_der()
                .map_err(|e| AuthError::internal("an Ed25519 key as PKCS#8", e))?;
            let jwk = PublicJwk {
                kty: "OKP".into(),
                crv: Some("Ed25519".into()),
                x: Some(URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())),
                ..PublicJwk::default()
            };
            Ok((der.as_bytes().to_vec(), Some(jwk)))
        }
        JwtAlgorithm::Es256 => {
            use p256::pkcs8::EncodePrivateKey as _;
            // A random scalar is valid unless it is zero or ≥ the group order (~2^-32).
            let key = loop {
                if let Ok(key) = p256::SecretKey::from_slice(&random_bytes::<32>()?) {
                    break key;
                }
            };
            let der = key
                .to_pkcs8_der()
                .map_err(|e| AuthError::internal("a P-256 key as PKCS#8", e))?;
            let point = key.public_key().to_sec1_bytes();
            if point.len() != 65 || point[0] != 4 {
                return Err(AuthError::bug(
                    "a P-256 public key is not an uncompressed point",
                ));
            }
            let jwk = PublicJwk {
                kty: "EC".into(),
                crv: Some("P-256".into()),
                x: Some(URL_SAFE_NO_PAD.encode(&point[1..33])),
                y: Some(URL_SAFE_NO_PAD.encode(&point[33..65])),
                ..PublicJwk::default()
            };
            Ok((der.as_bytes().to_vec(), Some(jwk)))
        }
        JwtAlgorithm::Hs256 => Ok((random_bytes::<32>()?.to_vec(), None)),
        JwtAlgorithm::Rs256 => {
            use aws_lc_rs::{
                encoding::AsDer as _,
                rsa::{KeyPair, KeySize, PublicKeyComponents},
                signature::KeyPair as _,
            };
            use p256::pkcs8::der::Decode as _;
            let key = KeyPair::generate(KeySize::Rsa2048)
                .map_err(|e| AuthError::internal("generating an RSA key", e))?;
            let pkcs8 = key
                .as_der()
                .map_err(|e| AuthError::internal("an RSA key as PKCS#8", e))?;
            // jsonwebtoken signs with the PKCS#1 `RSAPrivateKey` inside the PKCS#8 wrapper.
            let info = p256::pkcs8::PrivateKeyInfoRef::from_der(pkcs8.as_ref())
                .map_err(|e| AuthError::internal("reading an RSA key's PKCS#8", e))?;
            let pkcs1 = info.private_key.as_bytes().to_vec();
            let public = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
            let jwk = PublicJwk {
                kty: "RSA".into(),
                n: Some(URL_SAFE_NO_PAD.encode(&public.n)),
                e: Some(URL_SAFE_NO_PAD.encode(&public.e)),
                ..PublicJwk::default()
            };
            Ok((pkcs1, Some(jwk)))
        }
    }
}

/// The signing and verifying keys of a stored key (its private half opened).
pub(super) fn keys_for(
    algorithm: JwtAlgorithm,
    private: &[u8],
    public: Option<&PublicJwk>,
) -> Result<(Algorithm, EncodingKey, DecodingKey), AuthError> {
    let missing = || AuthError::bug("a stored key has no public half");
    let key_error = |e| AuthError::internal("a stored signing key", e);
    Ok(match algorithm {
        JwtAlgorithm::EdDsa => (
            Algorithm::EdDSA,
            EncodingKey::from_ed_der(private),
            DecodingKey::from_ed_components(
                public.and_then(|p| p.x.as_deref()).ok_or_else(missing)?,
            )
            .map_err(key_error)?,
        ),
        JwtAlgorithm::Es256 => {
            let public = public.ok_or_else(missing)?;
            (
                Algorithm::ES256,
                EncodingKey::from_ec_der(private),
                DecodingKey::from_ec_components(
                    public.x.as_deref().ok_or_else(missing)?,
                    public.y.as_deref().ok_or_else(missing)?,
                )
                .map_err(key_error)?,
            )
        }
        JwtAlgorithm::Hs256 => (
            Algorithm::HS256,
            EncodingKey::from_secret(private).map_err(key_error)?,
            DecodingKey::from_secret(private).map_err(key_error)?,
        ),
        JwtAlgorithm::Rs256 => {
            let public = public.ok_or_else(missing)?;
            (
                Algorithm::RS256,
                EncodingKey::from_rsa_der(private),
                DecodingKey::from_rsa_components(
                    public.n.as_deref().ok_or_else(missing)?,
                    public.e.as_deref().ok_or_else(missing)?,
                )
                .map_err(key_error)?,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Header, Validation};

    use super::*;

    #[test]
    fn generated_keys_sign_and_verify() {
        for algorithm in [
            JwtAlgorithm::EdDsa,
            JwtAlgorithm::Es256,
            JwtAlgorithm::Hs256,
            JwtAlgorithm::Rs256,
        ] {
            let (private, public) = generate(algorithm).unwrap();
            let (alg, encoding, decoding) = keys_for(algorithm, &private, public.as_ref()).unwrap();
            let token =
                jsonwebtoken::encode(&Header::new(alg), &serde_json::json!({"a": 1}), &encoding)
                    .unwrap();
            let mut v = Validation::new(alg);
            v.required_spec_claims.clear();
            v.validate_exp = false;
            assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &v).is_ok());
        }
    }
}

//! New key pairs, and the `jsonwebtoken` keys made from a stored one.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::{JwtAlgorithm, PublicJwk};

/// A new private key (PKCS#8 DER, or raw bytes for HS256) and its public JWK.
pub(super) fn generate(algorithm: JwtAlgorithm) -> Result<(Vec<u8>, Option<PublicJwk>), String> {
    let random = |n: usize| -> Result<Vec<u8>, String> {
        let mut bytes = vec![0u8; n];
        getrandom::fill(&mut bytes).map_err(|e| format!("OS randomness: {e}"))?;
        Ok(bytes)
    };
    match algorithm {
        JwtAlgorithm::EdDsa => {
            use ed25519_dalek::pkcs8::EncodePrivateKey as _;
            let seed: [u8; 32] = random(32)?
                .try_into()
                .map_err(|_| "seed length".to_owned())?;
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let der = key
                .to_pkcs8_der()
                .map_err(|e| format!("Ed25519 PKCS#8: {e}"))?;
            let jwk = PublicJwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
                y: None,
            };
            Ok((der.as_bytes().to_vec(), Some(jwk)))
        }
        JwtAlgorithm::Es256 => {
            use p256::pkcs8::EncodePrivateKey as _;
            // A random scalar is valid unless it is zero or ≥ the group order (~2^-32).
            let key = loop {
                if let Ok(key) = p256::SecretKey::from_slice(&random(32)?) {
                    break key;
                }
            };
            let der = key
                .to_pkcs8_der()
                .map_err(|e| format!("P-256 PKCS#8: {e}"))?;
            let point = key.public_key().to_sec1_bytes();
            if point.len() != 65 || point[0] != 4 {
                return Err("P-256 public key is not an uncompressed point".to_owned());
            }
            let jwk = PublicJwk {
                kty: "EC".into(),
                crv: "P-256".into(),
                x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                y: Some(URL_SAFE_NO_PAD.encode(&point[33..65])),
            };
            Ok((der.as_bytes().to_vec(), Some(jwk)))
        }
        JwtAlgorithm::Hs256 => Ok((random(32)?, None)),
    }
}

pub(super) fn keys_for(
    algorithm: JwtAlgorithm,
    private: &[u8],
    public: Option<&PublicJwk>,
) -> Result<(Algorithm, EncodingKey, DecodingKey), String> {
    let missing = || "public key missing".to_owned();
    let key_error = |e: jsonwebtoken::errors::Error| e.to_string();
    Ok(match algorithm {
        JwtAlgorithm::EdDsa => (
            Algorithm::EdDSA,
            EncodingKey::from_ed_der(private),
            DecodingKey::from_ed_components(&public.ok_or_else(missing)?.x).map_err(key_error)?,
        ),
        JwtAlgorithm::Es256 => {
            let public = public.ok_or_else(missing)?;
            (
                Algorithm::ES256,
                EncodingKey::from_ec_der(private),
                DecodingKey::from_ec_components(
                    &public.x,
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

//! "Sign in with Latchkey": the OpenID Connect provider, driven as a client application and a
//! person's browser would, on SQLite and PostgreSQL.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use latchkey::{
    auth::{
        accounts,
        audit::Actor,
        keys::JwtAlgorithm,
        oidc::{
            clients::{self, NewClient, Registered},
            with_query,
        },
        roles,
    },
    entity::user,
};
use reqwest::{Response, StatusCode, redirect::Policy};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::{
    cli::latchkey,
    helpers::{PASSWORD, TestApp, assert_error, free_port, spawn_app, spawn_app_with},
};

const REDIRECT: &str = "https://rp.example/callback";
const LOGOUT_REDIRECT: &str = "https://rp.example/signed-out";
const APP_URL: &str = "http://localhost:5173";

struct Provider {
    app: TestApp,
    issuer: String,
    /// The person's browser: the app's cookie jar, never following redirects.
    browser: reqwest::Client,
    client: Registered,
}

impl Provider {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    async fn start_with(extra: &[(&str, &str)]) -> Self {
        Self::start_for(extra, JwtAlgorithm::Rs256).await
    }

    async fn start_for(extra: &[(&str, &str)], id_token_alg: JwtAlgorithm) -> Self {
        let port = free_port().to_string();
        let issuer = format!("http://127.0.0.1:{port}");
        let mut vars = vec![("PORT", port.as_str()), ("PUBLIC_URL", issuer.as_str())];
        vars.extend_from_slice(extra);
        let app = spawn_app_with(&vars).await;
        let client = clients::create(
            &app.state.auth.db,
            NewClient {
                name: "Example RP".to_owned(),
                redirect_uris: vec![REDIRECT.to_owned()],
                post_logout_redirect_uris: vec![LOGOUT_REDIRECT.to_owned()],
                public: false,
                id_token_alg,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let browser = reqwest::Client::builder()
            .cookie_provider(app.jar.clone())
            .redirect(Policy::none())
            .build()
            .unwrap();
        Self {
            app,
            issuer,
            browser,
            client,
        }
    }

    fn client_id(&self) -> &str {
        &self.client.client.client_id
    }

    fn secret(&self) -> &str {
        self.client.client_secret.as_deref().unwrap()
    }

    /// `GET /oauth2/authorize` with these parameters; the `Location` it answers.
    async fn authorize(&self, params: &[(&str, &str)]) -> String {
        let response = self
            .browser
            .get(with_query(&self.app.url("/oauth2/authorize"), params))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// A valid authorization request for `scope` (and `prompt`); the pending request's id.
    async fn start_request(&self, scope: &str, extra: &[(&str, &str)], challenge: &str) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.client_id()),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st-123"),
            ("nonce", "n-456"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        params.extend_from_slice(extra);
        let location = self.authorize(&params).await;
        assert!(
            location.starts_with(&format!("{APP_URL}/authorize?request=")),
            "{location}"
        );
        query(&location, "request").unwrap()
    }

    async fn continue_request(&self, id: &str) -> Value {
        let response = self
            .browser
            .post(self.app.url(&format!("/oauth2/requests/{id}/continue")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn decide(&self, id: &str, allow: bool) -> Value {
        let response = self
            .browser
            .post(self.app.url(&format!("/oauth2/requests/{id}/decision")))
            .json(&json!({ "allow": allow }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Signs `alice` in (registering her), authorizes, consents: the code and the PKCE verifier.
    async fn code_for(&self, scope: &str) -> (String, String) {
        self.app.signed_in("alice").await;
        self.code_for_signed_in(scope).await
    }

    async fn code_for_signed_in(&self, scope: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let id = self.start_request(scope, &[], &challenge).await;
        let step = self.continue_request(&id).await;
        let step = if step["action"] == "consent" {
            self.decide(&id, true).await
        } else {
            step
        };
        assert_eq!(step["action"], "redirect", "{step}");
        let to = step["redirect_to"].as_str().unwrap();
        assert!(to.starts_with(REDIRECT), "{to}");
        assert_eq!(query(to, "state").as_deref(), Some("st-123"));
        assert_eq!(query(to, "iss").as_deref(), Some(self.issuer.as_str()));
        (query(to, "code").unwrap(), verifier)
    }

    /// `POST /oauth2/token` with `client_secret_basic`.
    async fn token(&self, form: &[(&str, &str)]) -> Response {
        self.token_as(form, Some((self.client_id(), self.secret())))
            .await
    }

    async fn token_as(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        self.form_post("/oauth2/token", form, basic).await
    }

    async fn form_post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Response {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            body.append_pair(k, v);
        }
        let mut request = reqwest::Client::new()
            .post(self.app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish());
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .await
    }

    async fn tokens_for(&self, scope: &str) -> Value {
        let (code, verifier) = self.code_for(scope).await;
        let response = self.exchange(&code, &verifier).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn refresh(&self, refresh_token: &str) -> Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn userinfo(&self, access_token: &str) -> Response {
        reqwest::Client::new()
            .get(self.app.url("/oauth2/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// The ID token's claims, verified with the RSA key from the JWKS like any client would.
    async fn verify_id_token(&self, id_token: &str) -> Value {
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let jwks: Value = reqwest::get(self.app.url("/.well-known/jwks.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| Some(k["kid"].as_str().unwrap()) == header.kid.as_deref())
            .expect("the ID token's key is published");
        assert_eq!(
            (key["kty"].as_str(), key["use"].as_str()),
            (Some("RSA"), Some("sig"))
        );
        let decoding = DecodingKey::from_rsa_components(
            key["n"].as_str().unwrap(),
            key["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[self.client_id()]);
        jsonwebtoken::decode::<Value>(id_token, &decoding, &validation)
            .unwrap()
            .claims
    }
}

fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD
        .encode(uuid::Uuid::new_v4().as_bytes())
        .repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn oauth_error(response: Response, status: u16, error: &str) {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
}

#[tokio::test]
async fn oidc_discovery_names_the_issuer_exactly_and_the_endpoints_under_it() {
    let p = Provider::start().await;
    let doc: Value = reqwest::get(p.app.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], p.issuer);
    assert_eq!(doc["token_endpoint"], format!("{}/oauth2/token", p.issuer));
    assert_eq!(
        doc["end_session_endpoint"],
        format!("{}/oauth2/logout", p.issuer)
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{}/.well-known/jwks.json", p.issuer)
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    let algs = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("RS256")) && algs.contains(&json!("EdDSA")));
}

#[tokio::test]
async fn oidc_is_off_without_public_url() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    assert_error(response, 404, "oidc_disabled").await;
}

#[tokio::test]
async fn oidc_authorize_errors_go_to_the_person_or_to_a_registered_redirect_uri() {
    let p = Provider::start().await;
    let (_, challenge) = pkce();
    let unknown = p
        .authorize(&[("client_id", "nope"), ("redirect_uri", REDIRECT)])
        .await;
    assert_eq!(unknown, format!("{APP_URL}/authorize?error=invalid_client"));
    let slash = format!("{REDIRECT}/");
    let off_by_a_slash = p
        .authorize(&[
            ("response_type", "code"),
            ("client_id", p.client_id()),
            ("redirect_uri", &slash),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert_eq!(
        off_by_a_slash,
        format!("{APP_URL}/authorize?error=invalid_redirect_uri")
    );
    for (missing_pkce, method) in [("", ""), (challenge.as_str(), "plain")] {
        let location = p
            .authorize(&[
                ("response_type", "code"),
                ("client_id", p.client_id()),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "s1"),
                ("code_challenge", missing_pkce),
                ("code_challenge_method", method),
            ])
            .await;
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(
            query(&location, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(query(&location, "state").as_deref(), Some("s1"));
        assert_eq!(query(&location, "iss").as_deref(), Some(p.issuer.as_str()));
    }
    let no_openid = p
        .authorize(&[
            ("response_type", "code"),
            ("client_id", p.client_id()),
            ("redirect_uri", REDIRECT),
            ("scope", "profile"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert_eq!(query(&no_openid, "error").as_deref(), Some("invalid_scope"));
    let response = p
        .browser
        .get(p.app.url("/oauth2/requests/not-a-request"))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "request_not_found").await;
}

#[tokio::test]
async fn oidc_the_whole_flow_gives_a_verifiable_id_token_and_userinfo() {
    let p = Provider::start().await;
    p.app.signed_in("alice").await;
    let (verifier, challenge) = pkce();
    let id = p
        .start_request("openid profile email offline_access", &[], &challenge)
        .await;
    let shown: Value = p
        .browser
        .get(p.app.url(&format!("/oauth2/requests/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["client_name"], "Example RP");
    assert_eq!(
        shown["scopes"],
        json!(["email", "offline_access", "openid", "profile"])
    );
    assert_eq!(p.continue_request(&id).await["action"], "consent");
    let step = p.decide(&id, true).await;
    let code = query(step["redirect_to"].as_str().unwrap(), "code").unwrap();
    let response = p.exchange(&code, &verifier).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].is_string());
    let claims = p
        .verify_id_token(tokens["id_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["preferred_username"], "alice");
    assert!(claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
    assert!(claims["sid"].is_string());
    let access = tokens["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let info: Value = p.userinfo(access).await.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["preferred_username"], "alice");
    // A client's access token is no key to Latchkey's own API, and the reverse.
    assert_eq!(p.app.profile_with_bearer(access).await.status(), 401);
    let own = p.app.cookie("access_token").unwrap();
    oauth_error(p.userinfo(&own).await, 401, "invalid_token").await;
    // The person sees the app, and their sessions list shows no grant.
    let apps: Value = p
        .app
        .client
        .get(p.app.url("/apps"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(apps["apps"][0]["client_id"], p.client_id());
    let sessions: Value = p
        .app
        .client
        .get(p.app.url("/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1);
    // Remembered consent: the next request goes straight back with a code.
    let (_, challenge) = pkce();
    let again = p.start_request("openid profile", &[], &challenge).await;
    assert_eq!(p.continue_request(&again).await["action"], "redirect");
}

#[tokio::test]
async fn oidc_a_code_works_once_and_its_reuse_revokes_the_grant() {
    let p = Provider::start().await;
    let (code, verifier) = p.code_for("openid offline_access").await;
    let first: Value = p.exchange(&code, &verifier).await.json().await.unwrap();
    oauth_error(p.exchange(&code, &verifier).await, 400, "invalid_grant").await;
    // RFC 6749 §4.1.2: what the code was exchanged for is revoked.
    oauth_error(
        p.refresh(first["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    )
    .await;
    oauth_error(
        p.userinfo(first["access_token"].as_str().unwrap()).await,
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn oidc_a_wrong_verifier_or_redirect_uri_is_refused() {
    let p = Provider::start().await;
    let (code, verifier) = p.code_for("openid").await;
    let (wrong, _) = pkce();
    oauth_error(p.exchange(&code, &wrong).await, 400, "invalid_grant").await;
    let slash = format!("{REDIRECT}/");
    let response = p
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &slash),
            ("code_verifier", &verifier),
        ])
        .await;
    oauth_error(response, 400, "invalid_grant").await;
    // Still unused: the right values work.
    assert_eq!(p.exchange(&code, &verifier).await.status(), 200);
}

#[tokio::test]
async fn oidc_a_guessed_client_secret_is_refused_then_throttled() {
    let p = Provider::start_with(&[("LOGIN_THROTTLE_FAILURES", "3")]).await;
    let form = [("grant_type", "authorization_code"), ("code", "x")];
    for _ in 0..3 {
        let response = p.token_as(&form, Some((p.client_id(), "guess"))).await;
        assert!(response.headers().contains_key("www-authenticate"));
        oauth_error(response, 401, "invalid_client").await;
    }
    let response = p.token_as(&form, Some((p.client_id(), "guess"))).await;
    assert!(response.headers().contains_key("retry-after"));
    oauth_error(response, 429, "temporarily_unavailable").await;
    // A confidential client's id alone is not enough: refused (401), or still throttled (429)
    // when the first lock has not run out yet.
    let id = [("client_id", p.client_id())];
    let form: Vec<_> = form.iter().copied().chain(id).collect();
    let status = p.token_as(&form, None).await.status().as_u16();
    assert!(status == 401 || status == 429, "{status}");
    oauth_error(
        p.form_post(
            "/oauth2/token",
            &[("grant_type", "password")],
            Some((p.client_id(), p.secret())),
        )
        .await,
        400,
        "unsupported_grant_type",
    )
    .await;
}

/// A client's access token, verified against the JWKS like a resource server would.
async fn verified_access_claims(p: &Provider, access_token: &str) -> Value {
    use jsonwebtoken::jwk::Jwk;
    let header = jsonwebtoken::decode_header(access_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwks: Value = reqwest::get(p.app.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("the access token's key is published");
    let jwk: Jwk = serde_json::from_value(key.clone()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&p.issuer]);
    validation.set_audience(&[p.client_id()]);
    jsonwebtoken::decode::<Value>(
        access_token,
        &DecodingKey::from_jwk(&jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}

#[tokio::test]
async fn oidc_client_access_tokens_carry_the_roles_read_at_issue_and_at_every_refresh() {
    let p = Provider::start().await;
    p.app.register("ops", PASSWORD).await;
    let db = &p.app.state.auth.db;
    let set = |name: &'static str, role: &'static str, on: bool| async move {
        let account = accounts::find(db, name).await.unwrap();
        if on {
            roles::grant(db, &Actor::cli(), &account, role, chrono::Utc::now()).await
        } else {
            roles::revoke(db, &Actor::cli(), &account, role, chrono::Utc::now()).await
        }
        .unwrap();
    };
    set("ops", roles::ADMIN, true).await;
    p.app.signed_in("alice").await;
    set("alice", roles::ADMIN, true).await;
    let (code, verifier) = p.code_for_signed_in("openid offline_access").await;
    let tokens: Value = p.exchange(&code, &verifier).await.json().await.unwrap();
    let claims = verified_access_claims(&p, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["roles"], json!(["admin"]));
    assert_eq!(claims["client_id"], p.client_id());

    // Demoted: the next refresh says so.
    set("alice", roles::ADMIN, false).await;
    let refreshed: Value = p
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let claims = verified_access_claims(&p, refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["roles"], json!([]));
}

#[tokio::test]
async fn oidc_refresh_rotates_and_reuse_revokes_the_grant() {
    let p = Provider::start().await;
    let tokens = p.tokens_for("openid offline_access").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let rotated: Value = p.refresh(first).await.json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    let claims = p
        .verify_id_token(rotated["id_token"].as_str().unwrap())
        .await;
    assert!(claims.get("nonce").is_none());
    // The browser's refresh endpoint does not take a client's refresh token.
    assert_error(
        p.app.refresh_with(second).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    // Outside the reuse interval, the spent token comes back: the grant ends.
    let p2 = Provider::start_with(&[("REFRESH_REUSE_INTERVAL", "0")]).await;
    let tokens = p2.tokens_for("openid offline_access").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let next: Value = p2.refresh(first).await.json().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    oauth_error(p2.refresh(first).await, 400, "invalid_grant").await;
    oauth_error(
        p2.refresh(next["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    )
    .await;
    // Without offline_access there is no refresh token.
    let p3 = Provider::start().await;
    assert!(p3.tokens_for("openid").await.get("refresh_token").is_none());
}

#[tokio::test]
async fn oidc_prompt_none_answers_without_asking() {
    let p = Provider::start().await;
    let (_, challenge) = pkce();
    // Signed out: login_required.
    let id = p
        .start_request("openid", &[("prompt", "none")], &challenge)
        .await;
    let step = p.continue_request(&id).await;
    let to = step["redirect_to"].as_str().unwrap();
    assert_eq!(query(to, "error").as_deref(), Some("login_required"));
    assert_eq!(query(to, "iss").as_deref(), Some(p.issuer.as_str()));
    // Signed in, never allowed: consent_required.
    p.app.signed_in("alice").await;
    let id = p
        .start_request("openid", &[("prompt", "none")], &challenge)
        .await;
    let step = p.continue_request(&id).await;
    assert_eq!(
        query(step["redirect_to"].as_str().unwrap(), "error").as_deref(),
        Some("consent_required")
    );
    // Allowed once: a code, silently.
    p.code_for_signed_in("openid").await;
    let id = p
        .start_request("openid", &[("prompt", "none")], &challenge)
        .await;
    let step = p.continue_request(&id).await;
    assert!(query(step["redirect_to"].as_str().unwrap(), "code").is_some());
    // prompt=login asks for a fresh sign-in, which then satisfies it.
    let id = p
        .start_request("openid", &[("prompt", "login")], &challenge)
        .await;
    assert_eq!(p.continue_request(&id).await["action"], "login");
    // Allowing cannot skip it.
    let skipped = p
        .browser
        .post(p.app.url(&format!("/oauth2/requests/{id}/decision")))
        .json(&json!({ "allow": true }))
        .send()
        .await
        .unwrap();
    assert_error(skipped, 401, "unauthenticated").await;
    assert_eq!(p.app.login("alice", PASSWORD).await.status(), 200);
    assert_eq!(p.continue_request(&id).await["action"], "redirect");
    // max_age=0 works the same way, without going round in circles.
    let id = p
        .start_request("openid", &[("max_age", "0")], &challenge)
        .await;
    assert_eq!(p.continue_request(&id).await["action"], "login");
    assert_eq!(p.app.login("alice", PASSWORD).await.status(), 200);
    assert_eq!(p.continue_request(&id).await["action"], "redirect");
    // A token that no longer works is 401 (the app refreshes and asks again), not "login".
    let id = p.start_request("openid", &[], &challenge).await;
    let response = reqwest::Client::new()
        .post(p.app.url(&format!("/oauth2/requests/{id}/continue")))
        .bearer_auth("expired.or.junk")
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthenticated").await;
    // Denying sends access_denied, and the request is used.
    let id = p.start_request("openid email", &[], &challenge).await;
    assert_eq!(p.continue_request(&id).await["action"], "consent");
    let denied = p.decide(&id, false).await;
    assert_eq!(
        query(denied["redirect_to"].as_str().unwrap(), "error").as_deref(),
        Some("access_denied")
    );
    let response = p
        .browser
        .post(p.app.url(&format!("/oauth2/requests/{id}/continue")))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "request_not_found").await;
}

#[tokio::test]
async fn oidc_revocation_and_introspection() {
    let p = Provider::start().await;
    let tokens = p.tokens_for("openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let basic = Some((p.client_id(), p.secret()));
    let active: Value = p
        .form_post("/oauth2/introspect", &[("token", access)], basic)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], p.client_id());
    assert_eq!(active["scope"], "offline_access openid");
    let junk: Value = p
        .form_post("/oauth2/introspect", &[("token", "junk")], basic)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(junk, json!({ "active": false }));
    let revoked = p
        .form_post("/oauth2/revoke", &[("token", refresh)], basic)
        .await;
    assert_eq!(revoked.status(), 200);
    let after: Value = p
        .form_post("/oauth2/introspect", &[("token", access)], basic)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["active"], false);
    oauth_error(p.refresh(refresh).await, 400, "invalid_grant").await;
    // Unknown tokens are fine to revoke (RFC 7009 §2.2).
    assert_eq!(
        p.form_post("/oauth2/revoke", &[("token", "x")], basic)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn oidc_logout_with_an_id_token_hint_ends_the_browser_session() {
    let p = Provider::start().await;
    let tokens = p.tokens_for("openid").await;
    let hint = tokens["id_token"].as_str().unwrap();
    let response = p
        .browser
        .get(with_query(
            &p.app.url("/oauth2/logout"),
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", LOGOUT_REDIRECT),
                ("state", "bye"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{APP_URL}/end-session?request=")),
        "{location}"
    );
    let id = query(&location, "request").unwrap();
    let shown: Value = p
        .browser
        .get(p.app.url(&format!("/oauth2/logout-requests/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown,
        json!({ "client_name": "Example RP", "confirm": false })
    );
    assert_eq!(p.app.profile().await.status(), 200);
    let done: Value = p
        .browser
        .post(p.app.url(&format!("/oauth2/logout-requests/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["redirect_to"], format!("{LOGOUT_REDIRECT}?state=bye"));
    assert_eq!(p.app.profile().await.status(), 401);
    // An unregistered post-logout URI is shown to the person, not followed.
    let response = p
        .browser
        .get(with_query(
            &p.app.url("/oauth2/logout"),
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        format!("{APP_URL}/end-session?error=invalid_request")
    );
}

#[tokio::test]
async fn oidc_revoking_an_app_ends_its_refresh_token_at_once() {
    let p = Provider::start().await;
    let tokens = p.tokens_for("openid offline_access").await;
    let response = p
        .app
        .client
        .delete(p.app.url(&format!("/apps/{}", p.client_id())))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    oauth_error(
        p.refresh(tokens["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    )
    .await;
    let apps: Value = p
        .app
        .client
        .get(p.app.url("/apps"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(apps["apps"], json!([]));
    let activity: Value = p
        .app
        .client
        .get(p.app.url("/activity"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"app_allowed") && kinds.contains(&"app_revoked"),
        "{kinds:?}"
    );
    let again = p
        .app
        .client
        .delete(p.app.url(&format!("/apps/{}", p.client_id())))
        .send()
        .await
        .unwrap();
    assert_error(again, 404, "not_found").await;
}

#[tokio::test]
async fn oidc_a_disabled_account_or_a_new_password_ends_client_grants() {
    let p = Provider::start().await;
    let tokens = p.tokens_for("openid offline_access").await;
    let change = p
        .app
        .post_json(
            "/password",
            &json!({ "current_password": PASSWORD, "new_password": "another long and unusual passphrase" }),
        )
        .await;
    assert_eq!(change.status(), 200);
    oauth_error(
        p.refresh(tokens["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    )
    .await;

    let (code, verifier) = p.code_for_signed_in("openid offline_access").await;
    let tokens: Value = p.exchange(&code, &verifier).await.json().await.unwrap();
    let account = user::Entity::find()
        .filter(user::Column::UsernameCanonical.eq("alice"))
        .one(&p.app.state.auth.db)
        .await
        .unwrap()
        .unwrap();
    latchkey::auth::accounts::set_disabled(
        &p.app.state.auth.db,
        &latchkey::auth::audit::Actor::cli(),
        &account,
        true,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    oauth_error(
        p.refresh(tokens["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    )
    .await;
    oauth_error(
        p.userinfo(tokens["access_token"].as_str().unwrap()).await,
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn oidc_clients_are_managed_from_the_command_line() {
    let p = Provider::start().await;
    let created = latchkey(
        &p.app,
        &[
            "clients",
            "create",
            "--name",
            "CLI app",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--public",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let created: Value = serde_json::from_str(created.stdout.trim()).unwrap();
    let id = created["client_id"].as_str().unwrap();
    assert!(created["client_secret"].is_null());
    let list = latchkey(&p.app, &["clients", "list"], "").await;
    assert!(list.stdout.contains(id) && list.stdout.contains("CLI app"));
    let rotated = latchkey(
        &p.app,
        &["clients", "rotate-secret", p.client_id(), "--json"],
        "",
    )
    .await;
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    let bad = latchkey(
        &p.app,
        &[
            "clients",
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "http://rp.example/cb",
        ],
        "",
    )
    .await;
    assert_ne!(bad.code, 0);
    let deleted = latchkey(&p.app, &["clients", "delete", id, "--yes"], "").await;
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
}

#[tokio::test]
async fn oidc_a_client_registered_for_es256_gets_es256_id_tokens_when_the_access_key_is_es256() {
    let p = Provider::start_for(&[("JWT_ALGORITHM", "ES256")], JwtAlgorithm::Es256).await;
    let tokens = p.tokens_for("openid").await;
    let header = jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    // The same client on an EdDSA deployment falls back to RS256.
    let p = Provider::start_for(&[], JwtAlgorithm::Es256).await;
    let tokens = p.tokens_for("openid").await;
    p.verify_id_token(tokens["id_token"].as_str().unwrap())
        .await;
}

#[tokio::test]
async fn oidc_public_clients_get_cors_at_the_token_endpoint_for_their_own_origin_only() {
    let p = Provider::start().await;
    let spa = clients::create(
        &p.app.state.auth.db,
        NewClient {
            name: "Browser app".to_owned(),
            redirect_uris: vec!["http://localhost:4000/callback".to_owned()],
            post_logout_redirect_uris: vec![],
            public: true,
            id_token_alg: JwtAlgorithm::Rs256,
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, p.app.url("/oauth2/token"))
        .header("origin", "http://localhost:4000")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://localhost:4000"
    );
    let exchange = reqwest::Client::new()
        .post(p.app.url("/oauth2/token"))
        .header("origin", "http://localhost:4000")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=refresh_token&refresh_token=x&client_id={}",
            spa.client.client_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        exchange.headers()["access-control-allow-origin"],
        "http://localhost:4000"
    );
    oauth_error(exchange, 400, "invalid_grant").await;
    let stranger = reqwest::Client::new()
        .post(p.app.url("/oauth2/token"))
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token")
        .send()
        .await
        .unwrap();
    assert_error(stranger, 403, "forbidden_origin").await;
}

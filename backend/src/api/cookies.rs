//! The one place cookie names and attributes are decided, for setting, reading and clearing.
//!
//! With `COOKIE_SECURE=true` every cookie carries the `__Host-` prefix (RFC 6265bis §4.1.3.2):
//! the browser then accepts it only over HTTPS, for this exact host, with `Path=/`, so a
//! sibling subdomain can neither read nor plant it. Only the configured names are read.

use chrono::{DateTime, Utc};
use poem::web::cookie::{Cookie, CookieJar, SameSite};

use crate::{
    auth::{credentials::SignedIn, device::Remembered, sessions::IssuedSession},
    config,
};

pub const ACCESS_COOKIE: &str = "access_token";
pub const REFRESH_COOKIE: &str = "refresh_token";
pub const DEVICE_COOKIE: &str = "device_token";
pub const CHALLENGE_COOKIE: &str = "mfa_challenge";
const HOST_PREFIX: &str = "__Host-";

#[derive(Clone, Copy)]
pub struct CookieFactory {
    secure: bool,
    same_site: SameSite,
}

impl CookieFactory {
    pub fn new(config: &config::Config) -> Self {
        let same_site = match config.cookie_same_site {
            config::SameSite::Lax => SameSite::Lax,
            config::SameSite::Strict => SameSite::Strict,
        };
        Self {
            secure: config.cookie_secure,
            same_site,
        }
    }

    /// The name a cookie has under this configuration.
    pub fn name(&self, base: &str) -> String {
        if self.secure {
            format!("{HOST_PREFIX}{base}")
        } else {
            base.to_owned()
        }
    }

    /// Whether cookie names carry the `__Host-` prefix (`COOKIE_SECURE=true`).
    pub fn host_prefixed(&self) -> bool {
        self.secure
    }

    /// Sets both session cookies for `issued`, each living exactly as long as its token.
    pub fn set_session(&self, jar: &CookieJar, issued: &IssuedSession, now: DateTime<Utc>) {
        jar.add(self.build(
            ACCESS_COOKIE,
            &issued.access_token,
            seconds_until(issued.access_expires_at, now),
        ));
        jar.add(self.build(
            REFRESH_COOKIE,
            issued.refresh_token.expose(),
            seconds_until(issued.refresh_expires_at, now),
        ));
    }

    /// Clears both session cookies with the same attributes they were set with; a removal with
    /// another Path or SameSite would be ignored by the browser. The device cookie stays: it
    /// must survive sign-out to protect the next sign-in.
    pub fn clear_session(&self, jar: &CookieJar) {
        for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
            jar.add(self.build(name, "", 0));
        }
    }

    /// Sets the cookies of a sign-in: the session's, and the device's when it is trusted.
    pub fn set_signed_in(&self, jar: &CookieJar, signed_in: &SignedIn, now: DateTime<Utc>) {
        self.set_session(jar, &signed_in.session, now);
        if let Some(device) = &signed_in.device {
            self.set_device(jar, device, now);
        }
    }

    /// Remembers the device that just signed in (see `auth::device`).
    pub fn set_device(&self, jar: &CookieJar, device: &Remembered, now: DateTime<Utc>) {
        jar.add(self.build(
            DEVICE_COOKIE,
            &device.token,
            seconds_until(device.expires_at, now),
        ));
    }

    /// Forgets the device (its account is gone).
    pub fn clear_device(&self, jar: &CookieJar) {
        jar.add(self.build(DEVICE_COOKIE, "", 0));
    }

    /// Holds a sign-in's second-factor challenge for its five minutes.
    pub fn set_challenge(&self, jar: &CookieJar, token: &str, lifetime: std::time::Duration) {
        jar.add(self.build(CHALLENGE_COOKIE, token, lifetime.as_secs()));
    }

    pub fn clear_challenge(&self, jar: &CookieJar) {
        jar.add(self.build(CHALLENGE_COOKIE, "", 0));
    }

    pub fn challenge_token(&self, jar: &CookieJar) -> Option<String> {
        self.read(jar, CHALLENGE_COOKIE)
    }

    pub fn refresh_token(&self, jar: &CookieJar) -> Option<String> {
        self.read(jar, REFRESH_COOKIE)
    }

    pub fn device_token(&self, jar: &CookieJar) -> Option<String> {
        self.read(jar, DEVICE_COOKIE)
    }

    fn read(&self, jar: &CookieJar, base: &str) -> Option<String> {
        jar.get(&self.name(base))
            .map(|cookie| cookie.value_str().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn build(&self, base: &str, value: &str, max_age_secs: u64) -> Cookie {
        let mut cookie = Cookie::new_with_str(self.name(base), value);
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(self.same_site);
        cookie.set_path("/");
        cookie.set_max_age(std::time::Duration::from_secs(max_age_secs));
        cookie
    }
}

fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((at - now).num_seconds()).unwrap_or(0)
}

//! The one place cookie attributes are decided, for setting and for clearing.

use chrono::{DateTime, Utc};
use poem::web::cookie::{Cookie, CookieJar, SameSite};

use crate::{auth::sessions::IssuedSession, config};

pub const ACCESS_COOKIE: &str = "access_token";
pub const REFRESH_COOKIE: &str = "refresh_token";

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

    /// Sets both cookies for `issued`, each living exactly as long as its token.
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

    /// Clears both cookies with the same attributes they were set with; a removal with another
    /// Path or SameSite would be ignored by the browser.
    pub fn clear_session(&self, jar: &CookieJar) {
        for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
            jar.add(self.build(name, "", 0));
        }
    }

    fn build(&self, name: &str, value: &str, max_age_secs: u64) -> Cookie {
        let mut cookie = Cookie::new_with_str(name, value);
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

//! A readable name for the device behind a `User-Agent` ("Firefox 128 on Linux"), for people
//! reviewing where they are signed in. Parsed with the woothee rule set, not by hand.

use std::sync::LazyLock;

use woothee::{parser::Parser, woothee::VALUE_UNKNOWN};

static PARSER: LazyLock<Parser> = LazyLock::new(Parser::new);

/// "Browser major-version on OS", as much of it as is known; "Unknown device" otherwise.
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return "Unknown device".to_owned();
    };
    let known = |s: &str| !s.is_empty() && s != VALUE_UNKNOWN;
    // Browsers are on a computer, a phone or an appliance; anything else (an HTTP library, a
    // crawler) is best named by its own product token.
    let browser = |p: &woothee::parser::WootheeResult| {
        matches!(
            p.category,
            "pc" | "smartphone" | "mobilephone" | "appliance"
        ) && (known(p.name) || known(p.os))
    };
    let Some(parsed) = PARSER.parse(ua).filter(browser) else {
        let product: String = ua
            .split([' ', '/'])
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(40)
            .collect();
        return if product.is_empty() {
            "Unknown device".to_owned()
        } else {
            product
        };
    };
    let major = parsed.version.split('.').next().unwrap_or_default();
    let browser = match (known(parsed.name), known(major)) {
        (true, true) => format!("{} {major}", parsed.name),
        (true, false) => parsed.name.to_owned(),
        _ => "Unknown browser".to_owned(),
    };
    if known(parsed.os) {
        format!("{browser} on {}", parsed.os)
    } else {
        browser
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_with_their_major_version_and_os() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe_device(Some(firefox)), "Firefox 128 on Linux");
        let chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert!(describe_device(Some(chrome)).starts_with("Chrome 131 on Mac OSX"));
    }

    #[test]
    fn other_clients_fall_back_to_their_product_token() {
        assert_eq!(describe_device(Some("curl/8.5.0")), "curl");
        assert_eq!(describe_device(None), "Unknown device");
        assert_eq!(describe_device(Some("   ")), "Unknown device");
        assert_eq!(describe_device(Some("<script>")), "script");
    }
}

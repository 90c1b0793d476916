//! The confusable skeleton of a username (Unicode TS #39 §4), shared by this migration's
//! backfill and the server: two names with the same skeleton look alike (`Ian` and `lan`), so
//! only the first may be registered.

/// TS #39's skeleton, lowercased: letter case is already not what tells two accounts apart.
pub fn skeleton(username: &str) -> String {
    unicode_security::skeleton(username)
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_names_share_a_skeleton() {
        assert_eq!(skeleton("Ian"), skeleton("lan"));
        assert_eq!(skeleton("paypa1"), skeleton("paypal"));
        assert_eq!(skeleton("rn"), skeleton("m"));
        assert_eq!(skeleton("Alice"), skeleton("alice"));
        assert_ne!(skeleton("alice"), skeleton("bob"));
    }
}

//! Domain-name checks that aliases of every service type share.

/// A DNS name of at least two labels, each 1–63 letters, digits or inner
/// hyphens, at most 253 characters. A wildcard (`*.example.com`) is not one:
/// types that accept wildcards strip `*.` first.
pub fn is_domain_name(name: &str) -> bool {
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// `name` is `domain` or a name below it, ignoring case; a wildcard
/// `*.sub.domain` counts as `sub.domain`.
pub fn is_within(name: &str, domain: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name).to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    name == domain || name.ends_with(&format!(".{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_domains() {
        assert!(is_domain_name("www.example.com"));
        assert!(!is_domain_name("*.example.com"));
        assert!(!is_domain_name("localhost"));
        assert!(!is_domain_name("-a.example.com"));
        assert!(is_within("WWW.Example.com", "example.com"));
        assert!(is_within("*.app.example.com", "app.example.com"));
        assert!(!is_within("badexample.com", "example.com"));
    }
}

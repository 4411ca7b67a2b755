//! Diagnostics: what is wrong with a manifest, where (JSON pointer), and a hint.

// One definition for the SDK, the host and the native bridge.
pub use ferry_plugin_protocol::{Diagnostic, Severity};

/// Builds a JSON pointer from segments, escaping `~` and `/` (RFC 6901).
pub fn pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for segment in segments {
        out.push('/');
        out.push_str(&segment.as_ref().replace('~', "~0").replace('/', "~1"));
    }
    out
}

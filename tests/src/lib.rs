//! Fixture plugins for the end-to-end tests, built by build.rs.

/// Paths of the fixture components (`BAD_INFO`, `HOSTILE`, `WIT_MAJOR`).
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

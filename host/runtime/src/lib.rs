//! ferry runtime

//! ferry core

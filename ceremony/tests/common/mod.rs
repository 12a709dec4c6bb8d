//! Helpers shared by the ceremony crate's integration tests.

pub mod cloudhsm;

//! Test helpers shared by integration tests.
pub mod cmd;
pub mod fake_github;
pub mod report;

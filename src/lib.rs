//! costgate: a CI gate for the unit economics of AI features.
//!
//! Data flows one way:
//!
//! ```text
//! spec file ─┐
//! policy  ───┼─> spec (load & validate) ─> pricing (resolve) ─> economics (deterministic)
//! prices  ───┘                                               └─> sim (Monte Carlo)
//!                                  ─> policy (evaluate) ─> findings ─> report ─> exit code
//! ```
//!
//! The module layers, and what may import what, are in docs/architecture.md
//! (checked by tests/architecture.rs).

#![warn(missing_docs)]

pub mod approval;
pub mod calibrate;
pub mod check;
pub mod diff;
pub mod dist;
pub mod economics;
pub mod fmt;
pub mod fsutil;
pub mod github;
pub mod gitref;
pub mod http;
pub mod input;
pub mod logs;
pub mod outcome;
pub mod policy;
pub mod portfolio;
pub mod pricing;
pub mod report;
pub mod runtime;
pub mod schema;
pub mod signers;
pub mod sim;
pub mod source;
pub mod spec;
pub mod tune;
pub mod untrusted;

//! `costgate schema spec|policy`: the JSON Schema (draft 2020-12) of the spec
//! or of `costgate.toml`, for editors (the same text as `schemas/`).

use clap::{Args, ValueEnum};

use super::{Failure, output};

/// Which file's schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// A spec (YAML or TOML).
    Spec,
    /// The policy, costgate.toml.
    Policy,
}

/// `costgate schema` flags.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The spec's schema or the policy's.
    #[arg(value_enum)]
    pub which: Which,
}

pub fn run(a: &SchemaArgs) -> Result<i32, Failure> {
    let schema = match a.which {
        Which::Spec => costgate::schema::spec::schema(),
        Which::Policy => costgate::schema::policy::schema(),
    };
    output::print(&costgate::schema::to_text(&schema))?;
    Ok(0)
}

/// `costgate schema --help`'s epilogue.
pub const SCHEMA_HELP: &str = "\
The schemas are committed under schemas/ (costgate-spec.schema.json,
costgate-policy.schema.json) and published at each release's tag; the `$id`
of each is its URL. The example specs point their editor at them with a
`# yaml-language-server: $schema=...` line (TOML: `#:schema ...`).
A spec the schema accepts can still fail `costgate validate`: the schema
checks fields, types and words; validate also checks references (a tier's
model), the order of a distribution's figures and the catalog's names.";

//! Placeholder: written in the next commit.

use std::sync::Arc;

use super::{Deployed, OutFile, Plan};
use crate::input::node::Node;
use crate::pricing::PricedModels;
use crate::source::Problem;
use crate::spec::Spec;

/// The plan.
pub fn plan(_spec: &Spec, _priced: &PricedModels) -> Plan {
    Plan::new(super::Gateway::Kong)
}

/// The files.
pub fn render(_spec: &Spec, _priced: &PricedModels, _plan: &Plan) -> Vec<OutFile> {
    Vec::new()
}

/// Read.
pub fn read(_file: &Arc<str>, _docs: &[Node], _out: &mut Deployed) -> Result<(), Vec<Problem>> {
    Ok(())
}

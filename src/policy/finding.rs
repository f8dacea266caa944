//! What a finding means for the gate and what to do about it, read by
//! every renderer (terminal, Markdown, HTML, SARIF, JUnit) and by the
//! CLI's verdict, so that no two of them decide it differently.

use super::{Finding, Level};

/// What a report says to do about a finding.
#[derive(Clone, Debug, PartialEq)]
pub enum Remedy {
    /// Change the spec: the rule's help text.
    Fix(String),
    /// A policy exception covers it: its reason.
    Excepted(String),
    /// An approval is on file for it, covering it or not.
    Approval {
        /// Whether it covers the finding.
        covered: bool,
        /// What the approval says, or why it does not cover.
        note: String,
    },
}

impl Finding {
    /// An `approve` finding that no valid approval covers: what stops the
    /// gate with exit 2.
    pub fn is_open_approval(&self) -> bool {
        self.level == Level::Approve && !self.is_approved()
    }

    /// Covered by a valid approval on file.
    pub fn is_approved(&self) -> bool {
        self.approval.as_ref().is_some_and(|a| a.covered)
    }

    /// Whether reports show it: above `allow`, or lowered to `allow` by a
    /// policy exception (shown with the exception).
    pub fn is_shown(&self) -> bool {
        self.level != Level::Allow || self.exception.is_some()
    }

    /// What to do about it: the exception that covers it, else the approval
    /// on file, else the fix.
    pub fn remedy(&self) -> Remedy {
        if let Some(e) = &self.exception {
            Remedy::Excepted(e.clone())
        } else if let Some(a) = &self.approval {
            Remedy::Approval {
                covered: a.covered,
                note: a.note.clone(),
            }
        } else {
            Remedy::Fix(self.help.clone())
        }
    }

    /// The fix shown under an approval that no longer covers the finding
    /// (the remedy names the approval; this says what to change instead).
    pub fn fix_beyond_approval(&self) -> Option<&str> {
        self.approval
            .as_ref()
            .filter(|a| !a.covered && self.exception.is_none())
            .map(|_| self.help.as_str())
    }
}

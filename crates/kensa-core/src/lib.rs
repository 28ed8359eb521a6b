//! kensa's vocabulary: findings, severities, verdicts, the symbol table, the policy that turns
//! findings into a score and a verdict, scan budgets, and the en/ja message catalogue.
//! Nothing here does I/O: the policy and the catalogue are parsed from strings.

mod budget;
mod catalog;
pub mod civil;
mod finding;
mod policy;
mod severity;
mod symbols;

pub use budget::{Budget, Limits};
pub use catalog::{Catalog, Lang};
pub use finding::{Finding, Location};
pub use policy::{Assessment, Policy, PolicyError};
pub use severity::{Severity, Verdict};
pub use symbols::{SymbolInfo, SymbolTable};

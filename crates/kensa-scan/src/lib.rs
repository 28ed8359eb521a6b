//! The scan engine: sniff → analyse → recurse under budget → verdict, and the sources it reads
//! items from (files, directories, mbox files, Maildir folders).
//!
//! Analysers are small functions over one node's bytes and its context; they return findings and
//! child nodes. Only the walker recurses, so only the walker needs to watch depth, member counts,
//! bytes and time.

mod analyse;
mod report;
mod source;
mod walk;

pub use report::{ItemReport, Summary};
pub use source::{ScanError, collect_files, scan_file, split_mbox};
pub use walk::{PasswordSource, ScanOptions, scan_bytes};

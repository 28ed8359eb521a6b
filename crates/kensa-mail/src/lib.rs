//! The message model on mail-parser, password candidates and mail-level signals.

pub mod message;
pub mod password;
pub mod signals;

pub mod common;
pub mod host;
pub mod intel;
#[cfg(unix)]
pub mod milter;
pub mod net;
#[cfg(unix)]
pub mod quarantine;
pub mod scan;

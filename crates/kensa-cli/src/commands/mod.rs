pub mod common;
pub mod intel;
pub mod net;
pub mod scan;

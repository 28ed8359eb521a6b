//! Network analysis for `kensa net`: pure parsers and analytics over captures, Zeek logs and
//! threat-intelligence feeds. Nothing here prints; the CLI turns results into reports.

pub mod analyze;
pub mod beacon;
pub mod capture;
pub mod intel;
pub mod maillog;
pub mod proto;
pub mod zeek;

//! Host checks for `kensa host check` (live, Windows) and `kensa host triage` (collected artefacts).

pub mod emocheck;
pub mod hive;
pub mod listing;
pub mod paths;
pub mod proclist;
pub mod regexport;
pub mod registry;
pub mod task;

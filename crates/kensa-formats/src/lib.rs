//! Pure parsers over bytes. Nothing here does I/O, and nothing may panic on any input:
//! every function takes a byte slice (and limits), and returns data or an error with the offset.

mod cmdline;
pub mod dde;
pub mod decrypt;
pub mod html;
pub mod iso;
pub mod lnk;
pub mod msg;
pub mod ole;
pub mod ole10native;
pub mod onenote;
pub mod ovba;
pub mod pad;
pub mod ppt;
pub mod rtf;
pub mod script;
pub mod sniff;
pub mod vba;
pub mod vba_scan;
pub mod xlm;
pub mod zip;

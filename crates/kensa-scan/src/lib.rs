//! kensa-scan

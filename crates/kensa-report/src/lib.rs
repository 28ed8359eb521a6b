//! kensa-report

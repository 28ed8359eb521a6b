//! `kensa milter`: the milter protocol codec, the per-connection session, the gateway policy that
//! turns verdicts into actions, and the server that ties them to the scan engine and the
//! quarantine store. `inject` re-delivers released messages.

pub mod codec;
pub mod config;
pub mod headers;
pub mod inject;
pub mod judge;
pub mod policy;
pub mod server;
pub mod session;
pub mod subject;

pub use config::Config;
pub use policy::{Action, GatewayPolicy};
pub use server::{Milter, ServeError, serve, serve_tcp};

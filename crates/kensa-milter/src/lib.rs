//! `kensa milter`: the milter protocol codec, the server, and the policy that turns verdicts into actions.

pub mod codec;
pub mod inject;

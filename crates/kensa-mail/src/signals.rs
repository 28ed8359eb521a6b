//! Mail-level signals from one message.

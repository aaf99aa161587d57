//! The Telnet service of an emulated device.

pub mod driver;
pub mod session;

pub use session::{SessionLimits, TelnetSession};

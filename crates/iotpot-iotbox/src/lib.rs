//! IoTBOX: the backend of iotpot. Embedded Linux for many CPU architectures
//! under QEMU (software emulation), reset to clean from a snapshot after
//! hostile use, answering what the frontend's emulation does not know.
//! This is the only crate that starts QEMU.
//!
//! - [`analyze`]: dynamic analysis of a sample, its traffic captured.
//! - [`arch`]: the architectures, their Debian packages and QEMU machines.
//! - [`host`]: what this host needs to run them (QEMU, its version,
//!   firmware), checked with the package that brings what is missing.
//! - [`image`]: building images (Debian kernel + BusyBox-only initramfs).
//! - [`source`]: images cross-built from Debian's sources (big-endian MIPS).
//! - [`sinkhole`]: the only network an analysis sandbox has (DNS, TCP, HTTP
//!   from the sample store), and [`dns`], its questions and answers.
//! - [`cpio`]: the initramfs archive writer.
//! - [`vm`]: one sandbox and its serial-console control protocol.
//! - [`qmp`]: QEMU's control socket.
//! - [`template`]: snapshot templates, for resets in a fraction of a second.
//! - [`pool`]: the sandboxes behind the responder chain: a pool per
//!   architecture, one per session, the reset policy, and learning.
//!
//! Not for: deciding when to ask a sandbox (the shell says so, the session
//! waits, the frontend asks the pool), or running a sample anywhere but in
//! a sandbox.

pub mod analyze;
pub mod arch;
pub mod cpio;
pub mod dns;
pub mod host;
pub mod image;
pub mod pool;
pub mod qmp;
pub mod sinkhole;
pub mod source;
pub mod template;
pub mod vm;

pub use arch::{BoxArch, ARCHES};
pub use image::Image;
pub use vm::{Answer, RunError, Vm};

//! Downloads as the attacker's tool sees them: the vocabulary shared by the
//! shell emulation (which parses `wget`, `curl`, `tftp`, `ftpget` and `nc`
//! command lines and prints each tool's words), the downloader (which
//! fetches as that tool would and says how a fetch failed) and the events.

use std::sync::Arc;

/// The download tool an attacker ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// BusyBox wget.
    Wget,
    Curl,
    /// BusyBox tftp.
    Tftp,
    /// BusyBox ftpget.
    Ftpget,
    /// `nc HOST PORT > file`: recorded, never fetched (the server would
    /// have to talk first).
    Nc,
}

impl Tool {
    /// Its name, as in events (`tool`).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Wget => "wget",
            Tool::Curl => "curl",
            Tool::Tftp => "tftp",
            Tool::Ftpget => "ftpget",
            Tool::Nc => "nc",
        }
    }
}

/// A download a shell is waiting for: the URL, the tool, where the file
/// goes (`-`: standard output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    pub url: String,
    pub tool: Tool,
    pub dest: String,
}

/// What fetching a URL gave: the truth the attacker's session will see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchResult {
    Fetched {
        bytes: Arc<Vec<u8>>,
        /// The address the bytes came from (`ip:port`).
        remote: String,
    },
    Failed(FetchFailure),
}

/// Why a fetch failed, in the terms the tools print (each tool words them
/// its own way; the downloader maps its own errors to these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchFailure {
    /// The name did not resolve.
    BadAddress,
    /// Refused, unreachable, or forbidden by the guard (the device would
    /// see its connection fail).
    ConnectionRefused,
    Timeout,
    /// An HTTP error status, e.g. `404 Not Found`.
    HttpStatus(u16, String),
    /// A TFTP/FTP server error, or a broken transfer.
    Server(String),
    TooLarge,
    /// Redirected more times than the tool follows (the limit).
    TooManyRedirects(u32),
}

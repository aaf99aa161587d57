//! One module per subcommand.

pub mod bench;
pub mod boxcmd;
pub mod config;
pub mod events;
pub mod honeytokens;
pub mod pcap;
pub mod profiler;
pub mod profiles;
pub mod run;
pub mod samples;
pub mod sessions;

use iotpot_core::Config;
use std::path::Path;

pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

/// Raise the open-files limit to the hard limit: every session is a socket.
pub fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

//! One module per subcommand.

pub mod bench;
pub mod bench_profiler;
pub mod bench_sensor;
pub mod boxcmd;
pub mod config;
pub mod devices;
pub mod events;
pub mod honeytokens;
pub mod pcap;
pub mod pki;
pub mod profiler;
pub mod profiles;
pub mod relays;
pub mod run;
pub mod samples;
pub mod sensor;
pub mod sensors;
pub mod sessions;

use iotpot_core::Config;
use std::path::Path;

pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

/// Write events made outside `iotpot run` (an analysis report, a one-off
/// scan) to the store as configured, as the bus would.
pub fn record(config: &Config, events: &[iotpot_core::Event]) -> anyhow::Result<()> {
    use iotpot_store::Sink;
    let json: Vec<String> = events.iter().map(iotpot_core::Event::to_json).collect();
    std::fs::create_dir_all(&config.data_dir)?;
    if config.store.sqlite {
        let mut s = iotpot_store::sqlite::SqliteSink::open(&config.data_dir.join("iotpot.db"))?;
        s.write(events, &json)?;
    }
    if config.store.jsonl {
        let mut s = iotpot_store::jsonl::JsonlSink::open(&config.data_dir.join("events.jsonl"))?;
        s.write(events, &json)?;
        s.flush()?;
    }
    Ok(())
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

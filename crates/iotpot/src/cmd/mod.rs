//! One module per subcommand.

pub mod bench;
pub mod bench_http;
pub mod bench_profiler;
pub mod bench_report;
pub mod bench_sensor;
pub mod boxcmd;
pub mod config;
pub mod dashboard;
pub mod devices;
pub mod events;
pub mod exploits;
pub mod export;
pub mod honeytokens;
pub mod import;
pub mod pcap;
pub mod pki;
pub mod profiler;
pub mod profiles;
pub mod relays;
pub mod report;
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
    if !config.store.postgres.is_empty() {
        postgres_sink(config)?.write(events, &json)?;
    }
    Ok(())
}

/// The PostgreSQL sink of `[store] postgres`.
pub fn postgres_sink(config: &Config) -> anyhow::Result<Box<dyn iotpot_store::Sink>> {
    Ok(Box::new(iotpot_store::postgres::PostgresSink::open(
        &config.store.postgres,
    )?))
}

/// `config check` of `[store] postgres`: a connection string that does not
/// read is an error; a server that does not answer, a warning (the
/// honeypot runs on and connects when it can).
pub fn postgres_check(conninfo: &str) -> anyhow::Result<()> {
    iotpot_store::postgres::check_conninfo(conninfo)?;
    if let Err(e) = iotpot_store::postgres::Pg::reach(conninfo) {
        eprintln!("iotpot: warning: {e}");
    }
    Ok(())
}

/// A reading connection to `[store] postgres` (the dashboard's).
pub fn postgres_reader(conninfo: &str) -> anyhow::Result<Box<dyn iotpot_store::sql::Db + Send>> {
    Ok(Box::new(iotpot_store::postgres::Pg::connect(conninfo)?))
}

/// Raise the open-files limit: every session is a socket. To the hard
/// limit, or as root to the kernel's ceiling (`fs.nr_open`, at most 2^20).
pub fn raise_fd_limit() {
    // As root (CAP_SYS_RESOURCE) the hard limit itself may rise: a sensor
    // holds a descriptor per relayed attacker, a honeypot one per session,
    // and tens of thousands of them pass a 20,000 hard limit.
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1 << 20)
        .min(1 << 20);
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        if lim.rlim_max < ceiling {
            let higher = libc::rlimit {
                rlim_cur: ceiling,
                rlim_max: ceiling,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &higher) == 0 {
                return;
            }
        }
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

//! `iotpot pki ...`: the deployment's keys for sensors (`data_dir/pki/`).

use clap::Subcommand;
use iotpot_proxy::pki::{Pki, SENSOR_DAYS};
use std::path::Path;

#[derive(Subcommand)]
pub enum PkiCmd {
    /// Create the deployment's CA and the central's certificate in
    /// `data_dir/pki/` (keys mode 0600). Once per deployment.
    Init {
        /// HOST:PORT where sensors reach the central's `sensors` listener;
        /// the host is the name (or address) in the central's certificate.
        #[arg(long)]
        central: String,
    },
    /// Certify a sensor: its whole config (the central's address, the CA,
    /// its certificate and key) to standard output, for
    /// `iotpot sensor --config NAME.toml`.
    Sensor {
        name: String,
        /// Days the certificate is valid.
        #[arg(long, default_value_t = SENSOR_DAYS)]
        days: u32,
    },
    /// Revoke a sensor: every certificate of that name is refused from now on.
    Revoke { name: String },
    /// The sensors certified, and which are revoked.
    List,
}

pub fn run(cmd: PkiCmd, config: Option<&Path>) -> anyhow::Result<()> {
    let dir = super::load_config(config)?.data_dir.join("pki");
    match cmd {
        PkiCmd::Init { central } => {
            let pki = Pki::init(&dir, &central)?;
            println!(
                "CA and central certificate in {} (central reached at {}).\n\
                 Next: `iotpot pki sensor NAME > NAME.toml` for each sensor.",
                pki.dir().display(),
                pki.central()
            );
        }
        PkiCmd::Sensor { name, days } => {
            let mut pki = Pki::open(&dir)?;
            let link = pki.issue_sensor(&name, days)?;
            print!("{}", link.to_toml(&name));
        }
        PkiCmd::Revoke { name } => {
            let mut pki = Pki::open(&dir)?;
            pki.revoke(&name)?;
            println!("sensor {name:?} revoked: the central refuses its certificates from now on");
        }
        PkiCmd::List => {
            let pki = Pki::open(&dir)?;
            println!("central: {}", pki.central());
            println!(
                "{:<24} {:<34} {:<22} STATE",
                "SENSOR", "SERIAL", "VALID UNTIL"
            );
            for i in pki.issued() {
                let state = match pki.revoked().iter().find(|r| r.name == i.name) {
                    Some(r) => format!("revoked {}", r.at),
                    None => "valid".to_string(),
                };
                println!(
                    "{:<24} {:<34} {:<22} {state}",
                    i.name, i.serial, i.not_after
                );
            }
        }
    }
    Ok(())
}

//! The deployment's own certificate authority, in `data_dir/pki/`: it
//! certifies the central's QUIC endpoint and each sensor (the sensor's name
//! is its certificate's common name, so a sensor cannot claim another's),
//! and keeps the list of revoked sensors.
//!
//! Files: `ca.key` and `central.key` (mode 0600), `ca.crt`, `central.crt`,
//! `sensors/NAME.crt` (each certificate issued), `pki.toml` (the central's
//! address for sensors, what was issued and revoked). Keys are ECDSA P-256.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// How long the CA and the central's certificate are valid, in days.
pub const CA_DAYS: u32 = 3650;
/// A sensor's certificate, unless `pki sensor --days` says otherwise.
pub const SENSOR_DAYS: u32 = 730;

/// What `pki.toml` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    /// The CA certificate's common name (its subject, rebuilt to sign).
    ca_name: String,
    /// `HOST:PORT` where sensors reach the central.
    central: String,
    #[serde(default)]
    issued: Vec<Issued>,
    #[serde(default)]
    revoked: Vec<Revoked>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    pub name: String,
    /// Hex.
    pub serial: String,
    /// SHA-256 of the certificate (DER), hex: how the central knows it.
    #[serde(default)]
    pub sha256: String,
    /// RFC 3339.
    pub not_after: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revoked {
    pub name: String,
    /// RFC 3339.
    pub at: String,
}

/// An open `data_dir/pki/`.
pub struct Pki {
    dir: PathBuf,
    state: State,
}

/// Everything a sensor needs to reach its central: `iotpot pki sensor NAME`
/// prints it as the sensor's config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorLink {
    /// `HOST:PORT` of the central's `sensors` listener.
    pub address: String,
    /// The name the central's certificate carries (the host of `address`).
    pub server_name: String,
    /// PEM: the deployment's CA, the sensor's certificate and its key.
    pub ca: String,
    pub certificate: String,
    pub key: String,
}

/// A sensor name: a certificate common name and a file name alike.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.')
}

/// SHA-256 of a certificate's DER, hex.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(der))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn random_serial() -> anyhow::Result<SerialNumber> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    // Positive, as DER integers of serial numbers must be.
    b[0] &= 0x7f;
    Ok(SerialNumber::from_slice(&b))
}

/// Write a file only its owner may read, failing if it exists.
fn write_private(path: &Path, data: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    f.write_all(data.as_bytes())?;
    Ok(())
}

/// The host part of `HOST:PORT` (`[v6]:PORT` too).
fn host_of(address: &str) -> anyhow::Result<String> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("{address:?}: not HOST:PORT"))?;
    port.parse::<u16>()
        .map_err(|_| anyhow::anyhow!("{address:?}: not HOST:PORT"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        anyhow::bail!("{address:?}: no host");
    }
    Ok(host.to_string())
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "iotpot");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

/// A leaf certificate's parameters: `cn`, valid `days` from now.
fn leaf_params(
    cn: &str,
    sans: Vec<String>,
    days: u32,
    purpose: ExtendedKeyUsagePurpose,
) -> anyhow::Result<CertificateParams> {
    let mut p = CertificateParams::new(sans)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "iotpot");
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![purpose];
    p.serial_number = Some(random_serial()?);
    let start = now() - time::Duration::minutes(5);
    p.not_before = start;
    p.not_after = start + time::Duration::days(days as i64);
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

impl Pki {
    /// Create the CA and the central's certificate in `dir` (which must not
    /// hold one yet). `central`: `HOST:PORT` where sensors will reach the
    /// central; its host is the name in the central's certificate.
    pub fn init(dir: &Path, central: &str) -> anyhow::Result<Pki> {
        let host = host_of(central)?;
        if dir.join("ca.key").exists() {
            anyhow::bail!(
                "{} already holds a CA: one per deployment (remove the directory to start over; every sensor then needs a new config)",
                dir.display()
            );
        }
        std::fs::create_dir_all(dir.join("sensors"))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let mut tag = [0u8; 4];
        getrandom::fill(&mut tag).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let ca_name = format!("iotpot deployment CA {}", hex::encode(tag));
        let ca_key = KeyPair::generate()?;
        let mut params = ca_params(&ca_name);
        params.serial_number = Some(random_serial()?);
        params.not_before = now() - time::Duration::minutes(5);
        params.not_after = params.not_before + time::Duration::days(CA_DAYS as i64);
        let ca_cert = params.self_signed(&ca_key)?;
        write_private(&dir.join("ca.key"), &ca_key.serialize_pem())?;
        std::fs::write(dir.join("ca.crt"), ca_cert.pem())?;
        let pki = Pki {
            dir: dir.to_path_buf(),
            state: State {
                ca_name,
                central: central.to_string(),
                issued: Vec::new(),
                revoked: Vec::new(),
            },
        };
        let key = KeyPair::generate()?;
        let cert = leaf_params(
            &host,
            vec![host.clone()],
            CA_DAYS,
            ExtendedKeyUsagePurpose::ServerAuth,
        )?
        .signed_by(&key, &pki.issuer()?)?;
        write_private(&dir.join("central.key"), &key.serialize_pem())?;
        std::fs::write(dir.join("central.crt"), cert.pem())?;
        pki.save()?;
        Ok(pki)
    }

    /// Open an existing `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Pki> {
        let path = dir.join("pki.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e} (run `iotpot pki init --central HOST:PORT` first)",
                path.display()
            )
        })?;
        let state: State =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Pki {
            dir: dir.to_path_buf(),
            state,
        })
    }

    fn save(&self) -> anyhow::Result<()> {
        let path = self.dir.join("pki.toml");
        let tmp = self.dir.join("pki.toml.new");
        std::fs::write(&tmp, toml::to_string(&self.state)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    fn read(&self, file: &str) -> anyhow::Result<String> {
        let path = self.dir.join(file);
        std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    fn issuer(&self) -> anyhow::Result<Issuer<'static, KeyPair>> {
        let key = KeyPair::from_pem(&self.read("ca.key")?)?;
        Ok(Issuer::new(ca_params(&self.state.ca_name), key))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `HOST:PORT` where sensors reach the central.
    pub fn central(&self) -> &str {
        &self.state.central
    }

    pub fn ca_pem(&self) -> anyhow::Result<String> {
        self.read("ca.crt")
    }

    /// The central's certificate and key (PEM).
    pub fn central_identity(&self) -> anyhow::Result<(String, String)> {
        Ok((self.read("central.crt")?, self.read("central.key")?))
    }

    pub fn issued(&self) -> &[Issued] {
        &self.state.issued
    }

    pub fn revoked(&self) -> &[Revoked] {
        &self.state.revoked
    }

    /// The sensor a certificate (DER) was issued to (revoked or not).
    pub fn issued_to(&self, der: &[u8]) -> Option<&str> {
        let fp = fingerprint(der);
        let issued = self.state.issued.iter().find(|i| i.sha256 == fp)?;
        Some(issued.name.as_str())
    }

    pub fn is_revoked(&self, name: &str) -> bool {
        self.state.revoked.iter().any(|r| r.name == name)
    }

    /// Certify a sensor named `name` for `days`; what its config needs.
    /// Each call makes a new key (an earlier certificate of the same name
    /// stays valid until it expires, or until the name is revoked).
    pub fn issue_sensor(&mut self, name: &str, days: u32) -> anyhow::Result<SensorLink> {
        if !valid_name(name) {
            anyhow::bail!("{name:?}: a sensor name is 1 to 64 letters, digits, '-', '_' or '.'");
        }
        if self.is_revoked(name) {
            anyhow::bail!("sensor {name:?} is revoked: choose another name");
        }
        if days == 0 {
            anyhow::bail!("--days must be at least 1");
        }
        let key = KeyPair::generate()?;
        let params = leaf_params(name, Vec::new(), days, ExtendedKeyUsagePurpose::ClientAuth)?;
        let serial = params
            .serial_number
            .as_ref()
            .map(|s| hex::encode(s.to_bytes()))
            .unwrap_or_default();
        let not_after = rfc3339(params.not_after);
        let cert = params.signed_by(&key, &self.issuer()?)?;
        std::fs::write(
            self.dir.join("sensors").join(format!("{name}.crt")),
            cert.pem(),
        )?;
        self.state.issued.push(Issued {
            name: name.to_string(),
            serial,
            sha256: fingerprint(cert.der()),
            not_after,
        });
        self.save()?;
        Ok(SensorLink {
            address: self.state.central.clone(),
            server_name: host_of(&self.state.central)?,
            ca: self.ca_pem()?,
            certificate: cert.pem(),
            key: key.serialize_pem(),
        })
    }

    /// Revoke every certificate of sensor `name`, now and for good.
    pub fn revoke(&mut self, name: &str) -> anyhow::Result<()> {
        if !self.state.issued.iter().any(|i| i.name == name) {
            anyhow::bail!("no sensor {name:?} was issued here");
        }
        if !self.is_revoked(name) {
            self.state.revoked.push(Revoked {
                name: name.to_string(),
                at: rfc3339(now()),
            });
            self.save()?;
        }
        Ok(())
    }
}

impl SensorLink {
    /// The sensor's config file: its `[central]` table, PEM blocks as
    /// multi-line literal strings (readable, no escapes).
    pub fn to_toml(&self, name: &str) -> String {
        format!(
            "# iotpot sensor {name:?}, made by `iotpot pki sensor`: run it with\n\
             #   iotpot sensor --config {name}.toml\n\
             # It holds the sensor's private key: keep it like one (chmod 600).\n\
             # The central knows the sensor by its certificate, whatever this says.\n\
             name = {name:?}\n\
             \n\
             # While the central is away the sensor answers on its own (the\n\
             # devices the central last pushed, no IoTBOX) and keeps what it\n\
             # records here until the central has it:\n\
             # [degraded]\n\
             # enabled = true\n\
             # spool = \"iotpot-spool\"\n\
             # spool_max_bytes = 268435456\n\
             # [degraded.downloader]   # as in iotpot.toml's [downloader]\n\
             # [degraded.limits]       # as in iotpot.toml's [limits]\n\
             \n\
             [central]\n\
             address = {address:?}\n\
             server_name = {server:?}\n\
             ca = '''\n{ca}'''\n\
             certificate = '''\n{cert}'''\n\
             key = '''\n{key}'''\n",
            address = self.address,
            server = self.server_name,
            ca = self.ca,
            cert = self.certificate,
            key = self.key,
        )
    }
}

/// A sensor's config file as `iotpot pki sensor` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorFile {
    /// For the sensor's own log and spool (the central goes by the
    /// certificate).
    #[serde(default = "default_name")]
    pub name: String,
    pub central: SensorLink,
    #[serde(default)]
    pub degraded: Degraded,
}

fn default_name() -> String {
    "sensor".into()
}

/// What a sensor does while its central is away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Degraded {
    /// Answer on its own (else: connections are closed until the central
    /// is back).
    pub enabled: bool,
    /// Where the events and samples of those sessions wait for the central.
    pub spool: std::path::PathBuf,
    /// The most the spool holds on disk; past it, new events are dropped
    /// (counted and logged).
    pub spool_max_bytes: u64,
    pub downloader: iotpot_core::config::DownloaderConfig,
    pub limits: iotpot_core::config::Limits,
}

impl Default for Degraded {
    fn default() -> Self {
        Degraded {
            enabled: true,
            spool: "iotpot-spool".into(),
            spool_max_bytes: 256 << 20,
            downloader: Default::default(),
            limits: Default::default(),
        }
    }
}

impl SensorFile {
    pub fn from_toml(text: &str) -> anyhow::Result<SensorFile> {
        Ok(toml::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses() {
        for ok in ["tokyo-1", "a", "sensor_2.lab"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "caf\u{e9}", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert_eq!(
            host_of("central.example.net:4433").unwrap(),
            "central.example.net"
        );
        assert_eq!(host_of("[2001:db8::1]:4433").unwrap(), "2001:db8::1");
        assert!(host_of("central").is_err());
        assert!(host_of(":4433").is_err());
    }

    #[test]
    fn a_sensor_file_reads_back_as_written() {
        let dir = std::env::temp_dir().join(format!("iotpot-pki-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut pki = Pki::init(&dir, "central.example.net:4433").unwrap();
        let link = pki.issue_sensor("osaka-2", 30).unwrap();
        let file = SensorFile::from_toml(&link.to_toml("osaka-2")).unwrap();
        assert_eq!(file.central, link);
        assert_eq!(file.name, "osaka-2");
        assert_eq!(file.degraded, Degraded::default());
        assert_eq!(file.central.server_name, "central.example.net");
        assert!(
            Pki::init(&dir, "central.example.net:4433").is_err(),
            "a second CA"
        );
        pki.revoke("osaka-2").unwrap();
        assert!(Pki::open(&dir).unwrap().is_revoked("osaka-2"));
        assert!(pki.issue_sensor("osaka-2", 30).is_err(), "a revoked name");
        assert!(pki.revoke("nobody").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

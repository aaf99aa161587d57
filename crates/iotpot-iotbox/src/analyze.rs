//! Dynamic analysis: run a sample in a fresh sandbox of its architecture
//! for a bounded time and report what it tried on the network.
//!
//! The sandbox gets one network card, and its other end is iotpot's
//! [`sinkhole`](crate::sinkhole): no packet leaves iotpot (neither the host
//! nor the Internet is reachable); names resolve to sinkhole addresses,
//! every TCP connection is accepted and what the sample sends is kept,
//! HTTP downloads are served from the sample store. Every frame is written
//! to a pcap, and the report is read from that capture: DNS names asked,
//! TCP connection attempts and UDP destinations, ports scanned,
//! destinations per /24 and /16 (the IoTPOT paper's Moose figure), packet
//! rate; plus the sinkhole's contacts. The sandbox is destroyed afterwards.

use crate::image::Image;
use crate::sinkhole::{self, Contact, Files};
use crate::vm::Vm;
use anyhow::Context;
use base64::Engine;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes of base64 per upload line.
const UPLOAD_CHUNK: usize = 2048;
/// Largest sample uploaded.
pub const MAX_SAMPLE: usize = 16 << 20;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub arch: String,
    pub sha256: String,
    pub seconds: f64,
    /// Names the sample looked up, with counts.
    pub dns: BTreeMap<String, u64>,
    /// `ip:port` it opened TCP connections to (SYNs), with counts.
    pub tcp: BTreeMap<String, u64>,
    /// `ip:port` it sent UDP to (DNS excepted), with counts.
    pub udp: BTreeMap<String, u64>,
    /// Destination port -> distinct destination addresses (a scan shows as
    /// one port to many addresses).
    pub ports: BTreeMap<u16, u64>,
    /// Distinct destinations per /24 and per /16.
    pub per_24: BTreeMap<String, u64>,
    pub per_16: BTreeMap<String, u64>,
    /// Packets the guest sent, and per second.
    pub packets: u64,
    pub packets_per_second: f64,
    /// The guest's processes at the end.
    pub processes: String,
    /// What running it printed (first 4 KiB).
    pub output: String,
    /// Names resolved through the sinkhole and the address each got.
    pub resolved: BTreeMap<String, String>,
    /// TCP connections the sinkhole accepted: what the sample sent, the
    /// files it downloaded.
    pub contacts: Vec<Contact>,
    pub pcap: PathBuf,
    /// The capture stopped at its size bound (the figures count only
    /// what it holds).
    pub pcap_truncated: bool,
}

/// Run `sample` (`script`: with `sh`) for `seconds` in a sandbox of
/// `image`, HTTP downloads served from `files`; the pcap stays at
/// `run_dir/traffic.pcap`.
pub async fn analyze(
    image: &Image,
    sample: &[u8],
    script: bool,
    seconds: u64,
    run_dir: &Path,
    files: std::sync::Arc<dyn Files>,
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        sample.len() <= MAX_SAMPLE,
        "sample larger than {MAX_SAMPLE} bytes"
    );
    std::fs::create_dir_all(run_dir)?;
    let pcap = run_dir.join("traffic.pcap");
    let _ = std::fs::remove_file(&pcap);
    let sock = run_dir.join("net.sock");
    let _ = std::fs::remove_file(&sock);
    let listener = tokio::net::UnixListener::bind(&sock)?;
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (recording, record) = tokio::sync::watch::channel(false);
    // The sample itself is fetched by the guest from the sinkhole, at a
    // URL nobody can guess (much faster than the serial console).
    let upload = format!("http://10.0.2.2/.iotbox-{:016x}", fastrand::u64(..));
    let files: std::sync::Arc<dyn Files> = std::sync::Arc::new(WithSample {
        url: upload.clone(),
        sample: sample.to_vec(),
        files,
    });
    let pcap_path = pcap.clone();
    let sink = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        sinkhole::serve(stream, files, &pcap_path, record, stopped).await
    });
    let vm = Vm::start_with(image, &run_dir.join("vm"), None, Some(&sock)).await;
    let _ = std::fs::remove_file(&sock);
    let mut vm = match vm {
        Ok(vm) => vm,
        Err(e) => {
            sink.abort();
            return Err(e);
        }
    };
    let t = Duration::from_secs(30);
    let fetched = vm
        .run(
            format!("cd /tmp; wget -q -O /tmp/sample {upload} && wc -c < /tmp/sample").as_bytes(),
            Duration::from_secs(60),
        )
        .await?;
    let got = String::from_utf8_lossy(&fetched.output).trim().to_string();
    if got != sample.len().to_string() {
        tracing::warn!(
            got,
            "fetching the sample in the sandbox failed: uploading it over the console"
        );
        upload_serial(&mut vm, sample).await?;
    }
    vm.run(b"chmod 755 /tmp/sample", t).await?;
    let _ = recording.send(true);
    let run = if script {
        "sh /tmp/sample > /tmp/.out 2>&1 &"
    } else {
        "/tmp/sample > /tmp/.out 2>&1 &"
    };
    let started = Instant::now();
    vm.run(run.as_bytes(), t).await?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let processes = vm
        .run(b"ps", t)
        .await
        .map(|a| String::from_utf8_lossy(&a.output).into_owned())
        .unwrap_or_default();
    let output = vm
        .run(b"head -c 4096 /tmp/.out", t)
        .await
        .map(|a| String::from_utf8_lossy(&a.output).into_owned())
        .unwrap_or_default();
    vm.kill().await;
    let _ = stop.send(());
    let seen = sink.await.context("the sinkhole")??;
    let mut report = read_pcap(&pcap).context("reading the sandbox's capture")?;
    report.resolved = seen.resolved;
    report.contacts = seen.contacts;
    report.pcap_truncated = seen.pcap_truncated;
    report.arch = image.arch.name().to_string();
    report.seconds = elapsed;
    report.packets_per_second = report.packets as f64 / elapsed.max(0.001);
    report.processes = processes;
    report.output = output;
    report.pcap = pcap;
    Ok(report)
}

/// The sample over the serial console, in base64 lines (slow: ~40 KB/s).
async fn upload_serial(vm: &mut Vm, sample: &[u8]) -> anyhow::Result<()> {
    let t = Duration::from_secs(30);
    let b64 = base64::engine::general_purpose::STANDARD.encode(sample);
    vm.run(b"rm -f /tmp/.s /tmp/sample", t).await?;
    for chunk in b64.as_bytes().chunks(UPLOAD_CHUNK) {
        let mut line = b"echo ".to_vec();
        line.extend_from_slice(chunk);
        line.extend_from_slice(b" >> /tmp/.s");
        vm.run(&line, t).await?;
    }
    let up = vm
        .run(
            b"base64 -d /tmp/.s > /tmp/sample && rm /tmp/.s && wc -c < /tmp/sample",
            t,
        )
        .await?;
    let got = String::from_utf8_lossy(&up.output).trim().to_string();
    anyhow::ensure!(got == sample.len().to_string(), "upload failed: {got:?}");
    Ok(())
}

/// The store's files, and the sample at its upload URL.
struct WithSample {
    url: String,
    sample: Vec<u8>,
    files: std::sync::Arc<dyn Files>,
}

impl Files for WithSample {
    fn get(&self, url: &str) -> Option<Vec<u8>> {
        if url == self.url {
            Some(self.sample.clone())
        } else {
            self.files.get(url)
        }
    }
}

/// The guest's traffic in the sinkhole's capture (Ethernet).
pub fn read_pcap(path: &Path) -> anyhow::Result<Report> {
    let f = std::fs::File::open(path)?;
    let mut reader = pcap_file::pcap::PcapReader::new(std::io::BufReader::new(f))?;
    let mut frames = Vec::new();
    while let Some(Ok(pkt)) = reader.next_packet() {
        frames.push(pkt.data.into_owned());
    }
    Ok(summarize(frames.iter().map(|f| f.as_slice())))
}

/// The report of a guest's Ethernet frames (anything the guest sends is
/// the sample's: hostile input).
pub fn summarize<'a>(frames: impl Iterator<Item = &'a [u8]>) -> Report {
    let mut r = Report::default();
    let mut dests: BTreeSet<(Ipv4Addr, u16)> = BTreeSet::new();
    let mut per_port: BTreeMap<u16, BTreeSet<Ipv4Addr>> = BTreeMap::new();
    for d in frames {
        // From the guest only (its MAC is QEMU's default 52:54:00:12:34:56).
        if d.len() < 34 || d[6..12] != [0x52, 0x54, 0x00, 0x12, 0x34, 0x56] || d[12..14] != [8, 0] {
            continue;
        }
        r.packets += 1;
        let ip = &d[14..];
        let ihl = (ip[0] & 0x0f) as usize * 4;
        if ihl < 20 || ip.len() < ihl + 4 {
            continue;
        }
        let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        let l4 = &ip[ihl..];
        let dport = u16::from_be_bytes([l4[2], l4[3]]);
        match ip[9] {
            6 if l4.len() >= 14 => {
                let flags = l4[13];
                if flags & 0x02 != 0 && flags & 0x10 == 0 {
                    bump(&mut r.tcp, format!("{dst}:{dport}"));
                    dests.insert((dst, dport));
                    per_port.entry(dport).or_default().insert(dst);
                }
            }
            17 if l4.len() >= 8 => {
                if dport == 53 {
                    if let Some(q) = crate::dns::Question::parse(&l4[8..]) {
                        bump(&mut r.dns, q.name);
                    }
                } else {
                    bump(&mut r.udp, format!("{dst}:{dport}"));
                    dests.insert((dst, dport));
                    per_port.entry(dport).or_default().insert(dst);
                }
            }
            _ => {}
        }
    }
    let mut n24: BTreeMap<String, BTreeSet<Ipv4Addr>> = BTreeMap::new();
    let mut n16: BTreeMap<String, BTreeSet<Ipv4Addr>> = BTreeMap::new();
    for (ip, _) in &dests {
        let o = ip.octets();
        n24.entry(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
            .or_default()
            .insert(*ip);
        n16.entry(format!("{}.{}.0.0/16", o[0], o[1]))
            .or_default()
            .insert(*ip);
    }
    r.per_24 = n24.into_iter().map(|(k, v)| (k, v.len() as u64)).collect();
    r.per_16 = n16.into_iter().map(|(k, v)| (k, v.len() as u64)).collect();
    r.ports = per_port
        .into_iter()
        .map(|(k, v)| (k, v.len() as u64))
        .collect();
    r
}

/// Entries kept per list of the report (a scan of the Internet would
/// otherwise grow it without end; the /24, /16 and port figures count all).
const MAX_ENTRIES: usize = 10_000;

fn bump(m: &mut BTreeMap<String, u64>, key: String) {
    if m.len() < MAX_ENTRIES || m.contains_key(&key) {
        *m.entry(key).or_default() += 1;
    }
}

//! Dynamic analysis: run a sample in a fresh sandbox of its architecture
//! for a bounded time and report what it tried on the network.
//!
//! The sandbox gets one network card on QEMU's user network with
//! `restrict=on`: no packet leaves QEMU (neither the host nor the Internet
//! is reachable), and every packet the guest sends is written to a pcap by
//! QEMU's `filter-dump`. The report is read from that capture: DNS names
//! asked, TCP connection attempts and UDP destinations, ports scanned,
//! destinations per /24 and /16 (the IoTPOT paper's Moose figure), packet
//! rate. The sandbox is destroyed afterwards.

use crate::image::Image;
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
    pub pcap: PathBuf,
}

/// Run `sample` (`script`: with `sh`) for `seconds` in a sandbox of
/// `image`; the pcap stays at `run_dir/traffic.pcap`.
pub async fn analyze(
    image: &Image,
    sample: &[u8],
    script: bool,
    seconds: u64,
    run_dir: &Path,
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        sample.len() <= MAX_SAMPLE,
        "sample larger than {MAX_SAMPLE} bytes"
    );
    std::fs::create_dir_all(run_dir)?;
    let pcap = run_dir.join("traffic.pcap");
    let _ = std::fs::remove_file(&pcap);
    let mut vm = Vm::start_with(image, &run_dir.join("vm"), None, Some(&pcap)).await?;
    let t = Duration::from_secs(30);
    let b64 = base64::engine::general_purpose::STANDARD.encode(sample);
    vm.run(b"rm -f /tmp/.s; cd /tmp", t).await?;
    for chunk in b64.as_bytes().chunks(UPLOAD_CHUNK) {
        let mut line = b"echo ".to_vec();
        line.extend_from_slice(chunk);
        line.extend_from_slice(b" >> /tmp/.s");
        vm.run(&line, t).await?;
    }
    let up = vm
        .run(b"base64 -d /tmp/.s > /tmp/sample && rm /tmp/.s && chmod 755 /tmp/sample && wc -c < /tmp/sample", t)
        .await?;
    let got = String::from_utf8_lossy(&up.output).trim().to_string();
    anyhow::ensure!(got == sample.len().to_string(), "upload failed: {got:?}");
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
    let mut report = read_pcap(&pcap).context("reading the sandbox's capture")?;
    report.arch = image.arch.name.to_string();
    report.seconds = elapsed;
    report.packets_per_second = report.packets as f64 / elapsed.max(0.001);
    report.processes = processes;
    report.output = output;
    report.pcap = pcap;
    Ok(report)
}

/// The guest's traffic in a filter-dump capture (Ethernet).
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
                    if let Some(name) = dns_name(&l4[8..]) {
                        bump(&mut r.dns, name);
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

/// The first question's name of a DNS query.
fn dns_name(msg: &[u8]) -> Option<String> {
    if msg.len() < 12 || msg[2] & 0x80 != 0 || u16::from_be_bytes([msg[4], msg[5]]) == 0 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    while i < msg.len() {
        let n = msg[i] as usize;
        if n == 0 {
            return (!labels.is_empty()).then(|| labels.join("."));
        }
        if n > 63 || i + 1 + n > msg.len() || labels.len() > 127 {
            return None;
        }
        labels.push(String::from_utf8_lossy(&msg[i + 1..i + 1 + n]).into_owned());
        i += 1 + n;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x03cnc\x07example\x03com\x00\x00\x01\x00\x01");
        assert_eq!(dns_name(&q).as_deref(), Some("cnc.example.com"));
        assert_eq!(dns_name(&q[..14]), None);
        let mut resp = q.clone();
        resp[2] |= 0x80;
        assert_eq!(dns_name(&resp), None);
    }
}

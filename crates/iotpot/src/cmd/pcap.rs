//! `iotpot pcap check FILE`: the IPv4/UDP length-field analysis of the
//! second IoTPOT paper, on any pcap file (tcpdump's, Wireshark's, a
//! sensor's). Lists the packets whose IP total length or UDP length
//! disagree with the real packet length.

use clap::Subcommand;
use iotpot_wire::ipcheck::{self, Link};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum PcapCmd {
    /// List IPv4/UDP packets whose length fields lie, and a summary.
    Check {
        file: PathBuf,
        /// One JSON object per anomalous packet, then a summary object.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: PcapCmd, _config: Option<&Path>) -> anyhow::Result<()> {
    let PcapCmd::Check { file, json } = cmd;
    let f = std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut reader = pcap_file::pcap::PcapReader::new(std::io::BufReader::new(f))
        .map_err(|e| anyhow::anyhow!("{}: not a pcap file ({e})", file.display()))?;
    let linktype: u32 = reader.header().datalink.into();
    let link = Link::from_linktype(linktype).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: link type {linktype} is not supported (Ethernet, raw IP, Linux SLL, loopback are)",
            file.display()
        )
    })?;
    let (mut packets, mut udp, mut anomalous) = (0u64, 0u64, 0u64);
    let mut per_port: std::collections::BTreeMap<u16, u64> = Default::default();
    if !json {
        println!(
            "{:<27}  {:<21}  {:<21}  {:>6}  {:>6}  {:>6}  ANOMALY",
            "TIME", "SOURCE", "DESTINATION", "REAL", "IP LEN", "UDP LEN"
        );
    }
    while let Some(pkt) = reader.next_packet() {
        let pkt = match pkt {
            Ok(p) => p,
            Err(e) => {
                eprintln!(
                    "iotpot: {}: stopped at a damaged record ({e})",
                    file.display()
                );
                break;
            }
        };
        packets += 1;
        let Some(p) = ipcheck::check(link, &pkt.data, pkt.orig_len as usize) else {
            continue;
        };
        udp += 1;
        if p.anomalies.is_empty() {
            continue;
        }
        anomalous += 1;
        *per_port.entry(p.dst_port).or_default() += 1;
        // UTC, as tcpdump -tttt and cowrie's timestamps read.
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(pkt.timestamp.as_nanos() as i128)
            .map(|t| iotpot_core::event::timestamp::format(&t))
            .unwrap_or_default();
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "time": t, "src_ip": p.src.to_string(), "src_port": p.src_port,
                    "dst_ip": p.dst.to_string(), "dst_port": p.dst_port,
                    "real_length": p.real_length, "ip_total_length": p.ip_total_length,
                    "udp_length": p.udp_length, "anomalies": p.anomalies,
                })
            );
        } else {
            println!(
                "{:<27}  {:<21}  {:<21}  {:>6}  {:>6}  {:>6}  {}",
                t.replace('T', " "),
                format!("{}:{}", p.src, p.src_port),
                format!("{}:{}", p.dst, p.dst_port),
                p.real_length,
                p.ip_total_length,
                p.udp_length,
                p.anomalies.join(",")
            );
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"packets": packets, "udp": udp, "anomalous": anomalous, "anomalous_by_dst_port": per_port})
        );
    } else {
        println!("{packets} packets, {udp} IPv4/UDP, {anomalous} with lying length fields");
        for (port, n) in per_port {
            println!("  {port}/udp: {n}");
        }
    }
    Ok(())
}

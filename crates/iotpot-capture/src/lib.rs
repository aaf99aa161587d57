//! Live packet capture of the honeypot's own ports to rotating pcap files,
//! and the IPv4/UDP length check on every packet (`iotpot.packet.anomaly`).
//! The only library crate with `unsafe` and libc: the socket, its kernel filter and
//! its receive ring (`ring.rs`). Not for: reading pcap files (`iotpot pcap check`
//! uses `iotpot_wire::ipcheck` directly) or anything but the honeypot's own
//! ports.
//!
//! An `AF_PACKET` socket in cooked mode (`SOCK_DGRAM`, like tcpdump's
//! `-i any`) on every interface or one; files are Linux SLL pcaps that
//! tcpdump, Wireshark and `iotpot pcap check` read, the one being written
//! too (packets are flushed to it within a second, like `tcpdump -U`), each
//! packet with the kernel's timestamp. Only packets to or from
//! a listening port are kept. A plain thread reads the ring a block at a
//! time (with a short timeout so shutdown is prompt) and writes the files:
//! nothing here touches the async runtime. Needs CAP_NET_RAW; without it the honeypot
//! warns and runs on uncaptured.
//!
//! On a central, a sensor's relayed sessions are written as the
//! attackers' own packets: the datagrams' loopback hop rewritten
//! ([`relayed`]), the connections (which cross no socket of the central)
//! written from what the relay reports ([`tap`]).

pub mod relayed;
mod ring;
pub mod tap;

use iotpot_core::config::CaptureConfig;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_store::EventTx;
use iotpot_wire::ipcheck::{self, Link};
use pcap_file::pcap::PcapHeader;
use pcap_file::DataLink;
// A packet is looked up in the configured ports (two lookups for each):
// foldhash, not SipHash; the set holds no attacker-chosen key.
use foldhash::HashSet;
use std::io::BufWriter;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

const SNAPLEN: usize = 65_535;
/// How long the thread waits for a block of packets at most.
const READ_TIMEOUT: Duration = Duration::from_millis(100);
const ETH_P_ALL: u16 = 0x0003;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;

/// A listening port: (IP protocol number, port).
pub type Port = (u8, u16);

/// The capture thread; stops (and flushes its file) when dropped.
pub struct Capture {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    more: MorePorts,
}

impl Capture {
    /// Where to tell the capture of listeners bound after it started.
    pub fn more_ports(&self) -> MorePorts {
        self.more.clone()
    }
}

/// Tells a running capture of more listeners (a central's sensor faces a
/// SIGHUP added): their packets are captured from the next block on, the
/// kernel filter widened to them.
#[derive(Clone)]
pub struct MorePorts(std::sync::mpsc::Sender<(Vec<Port>, Vec<Port>)>);

impl MorePorts {
    /// `ports` to capture, of which `relay_ports` are relay listeners
    /// (their loopback hop rewritten as the attackers' packets).
    pub fn add(&self, ports: Vec<Port>, relay_ports: Vec<Port>) {
        // The capture has stopped if this fails: nothing to tell.
        let _ = self.0.send((ports, relay_ports));
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start capturing `ports` into `dir`. `None` when the capture is off, or
/// (after a warning) cannot run: no CAP_NET_RAW, no such interface, no
/// directory. No ports is no reason not to: a central whose only listener
/// is the sensors' link records its relayed sessions (the `tap`), and the
/// faces a reload binds later ([`MorePorts`]).
pub fn start(
    cfg: &CaptureConfig,
    dir: &Path,
    ports: Vec<Port>,
    relay_ports: Vec<Port>,
    tap: &tap::Tap,
    events: EventTx,
    sensor: Arc<str>,
) -> Option<Capture> {
    if !cfg.enabled {
        return None;
    }
    let ring = match open_socket(&cfg.interface, &ports, interface_index("lo")) {
        Ok(s) => s,
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            tracing::warn!(
                "packet capture disabled: it needs CAP_NET_RAW (run as root, or \
                 `setcap cap_net_raw,cap_net_bind_service+ep` on the iotpot binary); \
                 the honeypot runs on without pcap files or packet.anomaly events"
            );
            return None;
        }
        Err(e) => {
            tracing::warn!(error = %e, interface = %cfg.interface, "packet capture disabled");
            return None;
        }
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        tracing::warn!(error = %e, dir = %dir.display(), "packet capture disabled");
        return None;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (more, more_rx) = std::sync::mpsc::channel();
    let mut run = Run {
        dropped: 0,
        more: more_rx,
        cfg: cfg.clone(),
        dir: dir.to_path_buf(),
        ports: ports.into_iter().collect(),
        relayed: relayed::Unwrap::new(relay_ports),
        tapped: tap.receiver(),
        synth: tap::Synth::default(),
        loopback: interface_index("lo"),
        events,
        sensor,
        file: None,
        budget: (cfg.max_events_per_second, Instant::now()),
        over_budget: 0,
    };
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("iotpot-capture".into())
        .spawn(move || run.run(ring, &flag))
        .ok()?;
    tracing::info!(dir = %dir.display(), interface = if cfg.interface.is_empty() { "any" } else { &cfg.interface }, "capturing the honeypot's ports");
    Some(Capture {
        stop,
        thread: Some(thread),
        more: MorePorts(more),
    })
}

fn interface_index(name: &str) -> u32 {
    let Ok(c) = std::ffi::CString::new(name) else {
        return 0;
    };
    // SAFETY: a valid NUL-terminated string; the call only reads it.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

/// `setsockopt(fd, SOL_SOCKET, name, value)`.
fn set_option<T>(fd: libc::c_int, name: libc::c_int, value: &T) -> std::io::Result<()> {
    set_option_at(fd, libc::SOL_SOCKET, name, value)
}

/// `setsockopt(fd, level, name, value)`.
fn set_option_at<T>(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> std::io::Result<()> {
    // SAFETY: setsockopt reads `size_of::<T>()` bytes at `value`, which is
    // a live reference of that size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn open_socket(interface: &str, ports: &[Port], loopback: u32) -> std::io::Result<ring::Ring> {
    // SAFETY: plain socket(2); the descriptor is owned right away.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            ETH_P_ALL.to_be() as i32,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // The kernel drops what is not ours before it is copied (the thread
    // still checks: packets queued before the filter was attached).
    attach_filter(fd, ports, loopback);
    let ring = ring::Ring::new(sock)?;
    if !interface.is_empty() {
        let index = interface_index(interface);
        if index == 0 {
            return Err(std::io::Error::other(format!("no interface {interface:?}")));
        }
        // SAFETY: an all-zero sockaddr_ll is valid; bind reads it.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL.to_be();
        addr.sll_ifindex = index as i32;
        // SAFETY: addr is a sockaddr_ll of the size given.
        let r = unsafe {
            libc::bind(
                fd,
                &addr as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(ring)
}

/// Attach (or replace) the kernel filter for `ports`; without one (too
/// many ports, or refused) the thread filters alone, and a filter for
/// fewer ports attached before is taken off.
fn attach_filter(fd: libc::c_int, ports: &[Port], loopback: u32) {
    let refused = match port_filter(ports, loopback) {
        Some(prog) => {
            let fprog = libc::sock_fprog {
                len: prog.len() as u16,
                filter: prog.as_ptr() as *mut libc::sock_filter,
            };
            // fprog points at `prog`, alive for the call; the kernel copies
            // the program.
            let r = set_option(fd, libc::SO_ATTACH_FILTER, &fprog);
            if let Err(e) = &r {
                tracing::warn!(error = %e, "packet capture: kernel filter refused; filtering in iotpot");
            }
            r.is_err()
        }
        None => {
            tracing::info!(
                "packet capture: too many ports for a kernel filter; filtering in iotpot"
            );
            true
        }
    };
    if refused {
        // None attached yet is fine (ENOENT).
        let _ = set_option(fd, libc::SO_DETACH_FILTER, &0 as &libc::c_int);
    }
}

/// A classic BPF program for a cooked (`SOCK_DGRAM`) packet socket:
/// accept IPv4/IPv6 TCP/UDP packets whose source or destination port is one
/// of `ports` (either protocol: the thread checks exactly), except the
/// outgoing copy of a packet on the loopback interface (`loopback`: its
/// index; loopback shows every packet twice). `None` when the jumps would
/// not fit (hundreds of ports).
fn port_filter(ports: &[Port], loopback: u32) -> Option<Vec<libc::sock_filter>> {
    #[derive(Clone, Copy)]
    enum To {
        Next,
        Accept,
        Drop,
        V6,
        Protocol,
    }
    // (code, k, jump if true, jump if false)
    let mut prog: Vec<(u16, u32, To, To)> = Vec::new();
    let mut nums: Vec<u16> = ports.iter().map(|p| p.1).collect();
    nums.sort_unstable();
    nums.dedup();
    let op = |code: u32| code as u16;
    let (ld_w_abs, ld_h_abs, ld_b_abs) = (
        op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS),
        op(libc::BPF_LD | libc::BPF_H | libc::BPF_ABS),
        op(libc::BPF_LD | libc::BPF_B | libc::BPF_ABS),
    );
    let ld_h_ind = op(libc::BPF_LD | libc::BPF_H | libc::BPF_IND);
    let ldx_msh = op(libc::BPF_LDX | libc::BPF_B | libc::BPF_MSH);
    let jeq = op(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K);
    let jset = op(libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K);
    let ret = op(libc::BPF_RET | libc::BPF_K);
    let ports_at = |prog: &mut Vec<(u16, u32, To, To)>, load: (u16, u32)| {
        prog.push((load.0, load.1, To::Next, To::Next));
        for p in &nums {
            prog.push((jeq, *p as u32, To::Accept, To::Next));
        }
    };
    // skb->ifindex == loopback && skb->pkt_type == PACKET_OUTGOING: drop
    // (SKF_AD_OFF + SKF_AD_IFINDEX, SKF_AD_OFF + SKF_AD_PKTTYPE).
    prog.push((ld_w_abs, (-0x1000i32 + 8) as u32, To::Next, To::Next));
    prog.push((jeq, loopback, To::Next, To::Protocol));
    prog.push((ld_w_abs, (-0x1000i32 + 4) as u32, To::Next, To::Next));
    prog.push((jeq, libc::PACKET_OUTGOING as u32, To::Drop, To::Next));
    // skb->protocol (SKF_AD_OFF + SKF_AD_PROTOCOL).
    let protocol = prog.len();
    prog.push((ld_w_abs, (-0x1000i32) as u32, To::Next, To::Next));
    prog.push((jeq, ETH_P_IP as u32, To::Next, To::V6));
    prog.push((ld_b_abs, 9, To::Next, To::Next));
    prog.push((jeq, 6, To::Next, To::Next));
    let tcp4 = prog.len() - 1;
    prog.push((jeq, 17, To::Next, To::Drop));
    prog.push((ld_h_abs, 6, To::Next, To::Next));
    prog.push((jset, 0x1fff, To::Drop, To::Next));
    prog.push((ldx_msh, 0, To::Next, To::Next));
    ports_at(&mut prog, (ld_h_ind, 0));
    ports_at(&mut prog, (ld_h_ind, 2));
    prog.push((ret, 0, To::Next, To::Next));
    let v6 = prog.len();
    prog.push((jeq, ETH_P_IPV6 as u32, To::Next, To::Drop));
    prog.push((ld_b_abs, 6, To::Next, To::Next));
    prog.push((jeq, 6, To::Next, To::Next));
    let tcp6 = prog.len() - 1;
    prog.push((jeq, 17, To::Next, To::Drop));
    ports_at(&mut prog, (ld_h_abs, 40));
    ports_at(&mut prog, (ld_h_abs, 42));
    prog.push((ret, 0, To::Next, To::Next));
    let drop = prog.len();
    prog.push((ret, 0, To::Next, To::Next));
    let accept = prog.len();
    prog.push((ret, (SNAPLEN + 16) as u32, To::Next, To::Next));
    let mut out = Vec::with_capacity(prog.len());
    for (i, (code, k, jt, jf)) in prog.iter().enumerate() {
        let rel = |t: To, tcp: bool| -> Option<u8> {
            let target = match t {
                // "TCP": skip the UDP test that follows.
                To::Next if tcp => i + 2,
                To::Next => i + 1,
                To::Accept => accept,
                To::Drop => drop,
                To::V6 => v6,
                To::Protocol => protocol,
            };
            u8::try_from(target - (i + 1)).ok()
        };
        let tcp = i == tcp4 || i == tcp6;
        out.push(libc::sock_filter {
            code: *code,
            jt: rel(*jt, tcp)?,
            jf: rel(*jf, false)?,
            k: *k,
        });
    }
    Some(out)
}

struct OpenFile {
    /// The file after its pcap header (written in big-endian order, the
    /// header's): one 16-byte record header and the frame per packet.
    writer: BufWriter<std::fs::File>,
    bytes: u64,
    opened: Instant,
    /// When the oldest packet not yet flushed to the file was written.
    dirty: Option<Instant>,
}

/// Packets reach the file within this (plus the read timeout, 200 ms): the
/// file being written can be read at any time, as with `tcpdump -U -w`.
const FLUSH_AFTER: Duration = Duration::from_millis(500);

struct Run {
    /// Packets the kernel dropped so far (the ring was full).
    dropped: u64,
    /// Listeners bound since the start (ports, relay ports).
    more: std::sync::mpsc::Receiver<(Vec<Port>, Vec<Port>)>,
    cfg: CaptureConfig,
    dir: PathBuf,
    ports: HashSet<Port>,
    /// The relay backdoors' loopback hop, rewritten as the attackers'.
    relayed: relayed::Unwrap,
    /// What relays report of their connections, and those connections'
    /// packets.
    tapped: Option<std::sync::mpsc::Receiver<tap::Record>>,
    synth: tap::Synth,
    loopback: u32,
    events: EventTx,
    sensor: Arc<str>,
    file: Option<OpenFile>,
    /// Anomaly events left in the current second.
    budget: (u32, Instant),
    over_budget: u64,
}

impl Run {
    fn run(&mut self, mut ring: ring::Ring, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            // A block at a time: the packets the kernel wrote into the
            // ring, with its timestamps. The wait is short, so that
            // shutdown is prompt and relayed connections are written soon.
            let now = Instant::now();
            if let Err(e) = ring.read_block(READ_TIMEOUT, |p| {
                self.packet(&p.from, p.ts, p.data, p.len, now)
            }) {
                tracing::warn!(error = %e, "packet capture: read failed");
                std::thread::sleep(Duration::from_millis(100));
            }
            let drops = ring.drops();
            if drops > 0 {
                let before = self.dropped;
                self.dropped += drops as u64;
                // Logged when the total crosses a power of two.
                if before == 0 || before.ilog2() != self.dropped.ilog2() {
                    tracing::warn!(
                        dropped = self.dropped,
                        "packet capture: the kernel dropped packets (the capture thread fell behind; they are missing from the pcap files)"
                    );
                }
            }
            self.more_ports(ring.fd());
            let now = Instant::now();
            self.tapped(now);
            self.rotate_if_old(now);
            self.flush_if_due(now);
        }
        if let Some(f) = self.file.take() {
            let mut w = f.writer;
            let _ = std::io::Write::flush(&mut w);
        }
    }

    /// Take in the listeners bound since the last call, and widen the
    /// kernel filter to them.
    fn more_ports(&mut self, fd: libc::c_int) {
        let mut added = false;
        for (ports, relay_ports) in self.more.try_iter() {
            tracing::info!(ports = ?ports, "packet capture: more listeners captured");
            self.ports.extend(ports);
            self.relayed.add(relay_ports);
            added = true;
        }
        if added {
            let ports: Vec<Port> = self.ports.iter().copied().collect();
            attach_filter(fd, &ports, self.loopback);
        }
    }

    /// One packet from the socket: `data` (cut at SNAPLEN) of a packet
    /// `real` bytes long, seen at `ts`.
    fn packet(
        &mut self,
        from: &libc::sockaddr_ll,
        ts: Duration,
        data: &[u8],
        real: usize,
        now: Instant,
    ) {
        // Loopback shows each packet twice (out and in): keep one (the
        // kernel filter drops the copy; packets queued before it was
        // attached get here).
        if from.sll_pkttype == libc::PACKET_OUTGOING && from.sll_ifindex as u32 == self.loopback {
            return;
        }
        let proto = u16::from_be(from.sll_protocol);
        if !self.ours(proto, data) {
            return;
        }
        // A sensor's attacker, through the central's loopback relay: as
        // the attacker's own packets (no anomaly check: the sensor got
        // the real ones).
        if proto == ETH_P_IP && self.relayed.is_relayed(data) {
            let link = sll_header(from, proto);
            let (packet, wire) = self.relayed.packet(data, real);
            self.write_at(&link, &packet, wire + 16, now, ts);
            return;
        }
        // Nothing is allocated per packet: the SLL header is written
        // before the packet, and the check reads the IP packet itself.
        self.write_at(&sll_header(from, proto), data, real + 16, now, ts);
        if proto == ETH_P_IP && from.sll_pkttype != libc::PACKET_OUTGOING {
            self.check(data, real);
        }
    }

    /// The relayed connections' packets reported since the last call.
    fn tapped(&mut self, now: Instant) {
        let Some(rx) = self.tapped.take() else {
            return;
        };
        for r in rx.try_iter() {
            let ts = r.at.duration_since(UNIX_EPOCH).unwrap_or_default();
            for (to_us, ip) in self.synth.record(&r) {
                let proto = if ip[0] >> 4 == 6 {
                    ETH_P_IPV6
                } else {
                    ETH_P_IP
                };
                let link = synthetic_sll_header(to_us, proto);
                self.write_at(&link, &ip, ip.len() + 16, now, ts);
            }
        }
        self.tapped = Some(rx);
    }

    /// Whether the packet is TCP/UDP to or from one of our ports.
    fn ours(&self, proto: u16, ip: &[u8]) -> bool {
        let (l4, offset) = match proto {
            ETH_P_IP if ip.len() >= 20 && ip[0] >> 4 == 4 => {
                // Later fragments carry no ports.
                if u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff != 0 {
                    return false;
                }
                (ip[9], (ip[0] & 0x0f) as usize * 4)
            }
            ETH_P_IPV6 if ip.len() >= 40 && ip[0] >> 4 == 6 => (ip[6], 40),
            _ => return false,
        };
        if !matches!(l4, 6 | 17) || ip.len() < offset + 4 {
            return false;
        }
        let src = u16::from_be_bytes([ip[offset], ip[offset + 1]]);
        let dst = u16::from_be_bytes([ip[offset + 2], ip[offset + 3]]);
        self.ports.contains(&(l4, dst)) || self.ports.contains(&(l4, src))
    }

    /// One packet seen at `ts` (since the Unix epoch).
    fn write_at(&mut self, link: &[u8], data: &[u8], orig_len: usize, now: Instant, ts: Duration) {
        if self.file.is_none() {
            self.file = self.open();
        }
        let Some(f) = self.file.as_mut() else {
            return;
        };
        match write_record(&mut f.writer, ts, orig_len, link, data) {
            Ok(n) => {
                f.bytes += n as u64;
                f.dirty.get_or_insert(now);
            }
            Err(e) => {
                tracing::warn!(error = %e, "packet capture: writing failed; a new file follows");
                self.file = None;
                return;
            }
        }
        if f.bytes >= self.cfg.max_file_bytes {
            self.file = None;
        }
        self.rotate_if_old(now);
    }

    /// Flush what has waited in the buffer for [`FLUSH_AFTER`].
    fn flush_if_due(&mut self, now: Instant) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        if f.dirty
            .is_some_and(|t| now.duration_since(t) >= FLUSH_AFTER)
        {
            if let Err(e) = std::io::Write::flush(&mut f.writer) {
                tracing::warn!(error = %e, "packet capture: writing failed; a new file follows");
                self.file = None;
                return;
            }
            f.dirty = None;
        }
    }

    fn rotate_if_old(&mut self, now: Instant) {
        if self.file.as_ref().is_some_and(|f| {
            now.duration_since(f.opened) >= Duration::from_secs(self.cfg.rotate_seconds)
        }) {
            self.file = None;
        }
    }

    /// A new file named by its start time; the oldest beyond `keep_files`
    /// are deleted.
    fn open(&mut self) -> Option<OpenFile> {
        let now = time::OffsetDateTime::now_utc();
        let base = format!(
            "iotpot-{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            now.year(),
            now.month() as u8,
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let mut path = self.dir.join(format!("{base}.pcap"));
        let mut i = 1;
        while path.exists() {
            path = self.dir.join(format!("{base}-{i}.pcap"));
            i += 1;
        }
        let header = PcapHeader {
            datalink: DataLink::LINUX_SLL,
            snaplen: (SNAPLEN + 16) as u32,
            ..PcapHeader::default()
        };
        let file = std::fs::File::create(&path)
            .map_err(|e| tracing::warn!(error = %e, path = %path.display(), "packet capture: cannot create file"))
            .ok()?;
        let mut writer = BufWriter::new(file);
        // The header at once: the new file is a valid pcap from the start.
        let written = header
            .write_to(&mut writer)
            .map_err(std::io::Error::other)
            .and_then(|_| std::io::Write::flush(&mut writer));
        if let Err(e) = written {
            tracing::warn!(error = %e, "packet capture: cannot write file");
            return None;
        }
        self.prune();
        Some(OpenFile {
            writer,
            bytes: 24,
            opened: Instant::now(),
            dirty: None,
        })
    }

    fn prune(&self) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("iotpot-") && n.ends_with(".pcap"))
            })
            .collect();
        // Oldest first: by when they were last written (a file is closed
        // before the next one starts), then by name.
        files.sort_by_key(|p| {
            let t = std::fs::metadata(p).and_then(|m| m.modified()).ok();
            (t, p.clone())
        });
        let keep = self.cfg.keep_files.max(1);
        if files.len() > keep {
            for old in &files[..files.len() - keep] {
                let _ = std::fs::remove_file(old);
            }
        }
    }

    /// The IPv4/UDP length check, and its event.
    /// `ip`: an IPv4 packet, `real` bytes long on the wire.
    fn check(&mut self, ip: &[u8], real: usize) {
        let Some(p) = ipcheck::check(Link::Raw, ip, real) else {
            return;
        };
        if p.anomalies.is_empty() {
            return;
        }
        let (left, since) = &mut self.budget;
        if since.elapsed() >= Duration::from_secs(1) {
            *left = self.cfg.max_events_per_second;
            *since = Instant::now();
        }
        if *left == 0 {
            self.over_budget += 1;
            if self.over_budget.is_power_of_two() {
                tracing::warn!(
                    skipped = self.over_budget,
                    "packet.anomaly events over max_events_per_second: skipped (still in the pcap files)"
                );
            }
            return;
        }
        *left -= 1;
        let ihl = (ip[0] & 0x0f) as usize * 4;
        let payload = ip.get(ihl + 8..).unwrap_or(&[]);
        let payload: String = hex::encode(&payload[..payload.len().min(64)]);
        let info = SessionInfo::new(
            SocketAddr::new(IpAddr::V4(p.src), p.src_port),
            SocketAddr::new(IpAddr::V4(p.dst), p.dst_port),
            self.sensor.clone(),
            "udp",
        );
        self.events
            .blocking_send(info.event(EventKind::PacketAnomaly {
                anomalies: p.anomalies.iter().map(|a| a.to_string()).collect(),
                real_length: p.real_length as u64,
                ip_total_length: p.ip_total_length as u64,
                udp_length: p.udp_length as u64,
                payload,
            }));
    }
}

/// One pcap record (big-endian, as the file header says; microseconds):
/// its 16-byte header, then the frame (`link` header and `data`). The
/// bytes written.
fn write_record(
    w: &mut impl std::io::Write,
    ts: Duration,
    orig_len: usize,
    link: &[u8],
    data: &[u8],
) -> std::io::Result<usize> {
    let len = link.len() + data.len();
    let mut head = [0u8; 16];
    head[0..4].copy_from_slice(&(ts.as_secs() as u32).to_be_bytes());
    head[4..8].copy_from_slice(&ts.subsec_micros().to_be_bytes());
    head[8..12].copy_from_slice(&(len as u32).to_be_bytes());
    head[12..16].copy_from_slice(&(orig_len as u32).to_be_bytes());
    w.write_all(&head)?;
    w.write_all(link)?;
    w.write_all(data)?;
    Ok(16 + len)
}

/// The 16-byte Linux SLL header of a packet.
fn sll_header(from: &libc::sockaddr_ll, proto: u16) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0..2].copy_from_slice(&(from.sll_pkttype as u16).to_be_bytes());
    h[2..4].copy_from_slice(&from.sll_hatype.to_be_bytes());
    let halen = from.sll_halen.min(8) as usize;
    h[4..6].copy_from_slice(&(halen as u16).to_be_bytes());
    h[6..6 + halen].copy_from_slice(&from.sll_addr[..halen]);
    h[14..16].copy_from_slice(&proto.to_be_bytes());
    h
}

/// The SLL header of a packet of a relayed connection (no interface of
/// this host carried it): incoming to the honeypot (`to_us`) or outgoing,
/// no link-layer address.
fn synthetic_sll_header(to_us: bool, proto: u16) -> [u8; 16] {
    const ARPHRD_NONE: u16 = 0xfffe;
    let mut h = [0u8; 16];
    let pkttype = if to_us {
        libc::PACKET_HOST
    } else {
        libc::PACKET_OUTGOING
    };
    h[0..2].copy_from_slice(&(pkttype as u16).to_be_bytes());
    h[2..4].copy_from_slice(&ARPHRD_NONE.to_be_bytes());
    h[14..16].copy_from_slice(&proto.to_be_bytes());
    h
}

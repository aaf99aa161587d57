//! Live packet capture, for real: inside a network namespace of its own
//! (`unshare -rn`, so the test needs no privilege and touches no real
//! interface), iotpot captures its ports on loopback while a raw socket
//! sends a 53413/UDP packet whose IP and UDP length fields lie, as the
//! infected scanners of the IoTPOT paper did. Then: the packet.anomaly
//! event, rotated pcap files that tcpdump reads, and `iotpot pcap check`
//! finding the same packet. Without CAP_NET_RAW iotpot warns and runs on.

mod common;
use common::*;
use iotpot_wire::ipcheck::udp_frame;
use std::process::Command;

fn config(dir: &TempDir, extra: &str) -> std::path::PathBuf {
    let cfg = dir.0.join("iotpot.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\nsensor = \"e2e\"\n\
             [[listen]]\nservice = \"netis\"\naddress = \"127.0.0.1:53413\"\nprofile = \"router-netis\"\n\
             [[listen]]\nservice = \"telnet\"\naddress = \"127.0.0.1:2323\"\nprofile = \"dvr-xiongmai\"\n\
             [downloader]\nenabled = false\n{extra}",
            dir.0.join("data").display()
        ),
    )
    .unwrap();
    cfg
}

/// Run iotpot in a network namespace of its own with `extra` config, and
/// the Python `client` beside it, then the shell commands `while_running`
/// (iotpot still runs); iotpot's log.
fn in_netns(dir: &TempDir, extra: &str, client: &str, while_running: &str) -> String {
    for tool in ["unshare", "ip", "python3", "tcpdump"] {
        require(tool);
    }
    let cfg = config(dir, extra);
    let script = format!(
        r#"set -e
ip link set lo up
{bin} run --config {cfg} 2>{log} >/dev/null &
pid=$!
for i in $(seq 200); do grep -q "iotpot running" {log} && break; sleep 0.05; done
# iotpot is stopped whatever happens here; the script fails if this did.
rc=0
(
set -e
python3 - <<'PY'
{client}
PY
{while_running}
) || rc=$?
sleep 0.5
kill -TERM $pid
wait $pid
exit $rc
"#,
        bin = BIN,
        cfg = cfg.display(),
        log = dir.0.join("log").display(),
    );
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", &script])
        .output()
        .unwrap();
    let log = std::fs::read_to_string(dir.0.join("log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "{}\n{log}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(log.contains("capturing the honeypot's ports"), "{log}");
    assert!(
        !log.contains("filter"),
        "the kernel filter is attached: {log}"
    );
    log
}

/// A Python client that sends, from port `src_port`, one 53413/UDP packet
/// whose length fields lie (18 bytes of payload; the IP and UDP headers
/// claim 60 and 40 bytes), runs the line `then`, and sends `probes` honest
/// probes, each answered.
fn liar(src_port: u16, then: &str, probes: u32) -> String {
    let lo = "127.0.0.1".parse().unwrap();
    let frame = udp_frame(lo, lo, src_port, 53413, &[0x42; 18], Some(60), Some(40));
    let hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        r#"import socket
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind(("lo", 0))
raw.send(bytes.fromhex("{hex}"))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
{then}
for i in range({probes}):
    u.sendto(b"\0" * 8, ("127.0.0.1", 53413))
    u.recvfrom(100)"#
    )
}

fn pcap_files(dir: &TempDir) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.0.join("data/pcap"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn captures_its_ports_and_flags_lying_packets() {
    let dir = TempDir::new("capture");
    in_netns(
        &dir,
        "[capture]\nmax_file_bytes = 4096\nkeep_files = 100\n",
        &liar(40000, "u.sendto(b\"not ours\", (\"127.0.0.1\", 9))", 40),
        "",
    );

    let db = rusqlite::Connection::open(dir.0.join("data/iotpot.db")).unwrap();
    let anomalies = column(
        &db,
        "SELECT json_extract(data, '$.anomalies') || ' ' || json_extract(data, '$.real_length') || ' ' || \
         json_extract(data, '$.ip_total_length') || ' ' || json_extract(data, '$.udp_length') || ' ' || \
         json_extract(data, '$.src_port') || ' ' || json_extract(data, '$.dst_port') || ' ' || protocol \
         FROM events WHERE eventid = 'iotpot.packet.anomaly'",
    );
    assert_eq!(
        anomalies,
        [r#"["ip_total_length","udp_length"] 46 60 40 40000 53413 udp"#]
    );
    // Size rotation: several files, each a pcap that tcpdump reads.
    let files = pcap_files(&dir);
    assert!(files.len() >= 2, "rotation by size: {files:?}");
    let mut packets = 0;
    let mut found = 0;
    for f in &files {
        let text = run_ok(Command::new("tcpdump").args(["-nn", "-r"]).arg(f));
        assert!(
            !text.contains("127.0.0.1.9:"),
            "another port was captured: {text}"
        );
        packets += text.lines().count();
        let check = Command::new(BIN)
            .args(["pcap", "check", "--json"])
            .arg(f)
            .output()
            .unwrap();
        found += String::from_utf8_lossy(&check.stdout)
            .lines()
            .filter(|l| l.contains("\"src_port\":40000"))
            .count();
    }
    // The lying packet, 40 probes and 40 replies.
    assert!(packets >= 81, "{packets} packets captured");
    assert_eq!(found, 1, "iotpot pcap check finds the same packet");
}

#[test]
fn without_cap_net_raw_it_warns_and_runs_on() {
    require("unshare");
    let dir = TempDir::new("capture-noperm");
    let cfg = config(&dir, "");
    // A user namespace of its own: root inside, but no CAP_NET_RAW over the
    // host's network.
    let port = free_port();
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("127.0.0.1:2323", &format!("127.0.0.1:{port}"))
        .replace("127.0.0.1:53413", &format!("127.0.0.1:{}", free_port()));
    std::fs::write(&cfg, text).unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut hp = Honeypot::spawn(
        Command::new("unshare")
            .args(["-r", BIN, "run", "--config"])
            .arg(&cfg),
        addr,
        TempDir::new("capture-noperm-unused"),
    );
    hp.wait_ready();
    let mut bot = Bot::connect(addr);
    bot.login_ok("root", "xc3511");
    assert_eq!(bot.run("echo al''ive"), "alive\n");
    let log = hp.stderr.lock().unwrap().clone();
    assert!(
        log.contains("packet capture disabled: it needs CAP_NET_RAW"),
        "{log}"
    );
    drop(bot);
    hp.stop();
    drop(dir);
}

/// Rotation by age, and only the newest `keep_files` kept.
#[test]
fn capture_files_rotate_by_age() {
    let dir = TempDir::new("capture-age");
    in_netns(
        &dir,
        "[capture]\nrotate_seconds = 1\nkeep_files = 2\n",
        r#"import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
for i in range(3):
    u.sendto(b"\0" * 8, ("127.0.0.1", 53413))
    u.recvfrom(100)
    time.sleep(1.3)"#,
        "",
    );
    let files = pcap_files(&dir);
    assert_eq!(
        files.len(),
        2,
        "3 files by age, the oldest deleted: {files:?}"
    );
    for f in &files {
        let text = run_ok(Command::new("tcpdump").args(["-nn", "-r"]).arg(f));
        assert!(text.contains(".53413"), "{}: {text}", f.display());
    }
}

/// The file being written is a pcap that tcpdump and `iotpot pcap check`
/// read while iotpot runs (flushed within a second, as `tcpdump -U -w`),
/// and `pcap check` prints its times as UTC dates.
#[test]
fn the_file_being_written_is_readable() {
    let dir = TempDir::new("capture-live");
    let out = |name: &str| dir.0.join(name).display().to_string();
    let before = time_now();
    in_netns(
        &dir,
        "",
        &liar(40001, "", 5),
        &format!(
            // What is on disk while iotpot runs (tcpdump cannot drop its
            // privileges in this namespace: it reads the copy afterwards).
            "sleep 1.2\nf=$(ls {data}/pcap/*.pcap)\ncp \"$f\" {copy}\n{bin} pcap check \"$f\" > {check} 2>&1\n",
            data = dir.0.join("data").display(),
            copy = out("live.pcap"),
            check = out("live-check"),
            bin = BIN
        ),
    );
    let tcpdump = run_ok(
        Command::new("tcpdump")
            .args(["-nn", "-r"])
            .arg(out("live.pcap")),
    );
    // The lying packet, 5 probes and 5 replies, read while being written.
    assert_eq!(
        tcpdump.lines().filter(|l| l.contains(".53413")).count(),
        11,
        "{tcpdump}"
    );
    let check = std::fs::read_to_string(out("live-check")).unwrap();
    let row = check
        .lines()
        .find(|l| l.contains("127.0.0.1:40001"))
        .unwrap_or_else(|| panic!("{check}"));
    // TIME is a UTC date of this run: "2026-12-01 14:03:05.123456Z".
    let stamp = &row[..27];
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[10] == b' ' && stamp >= before.as_str(),
        "{stamp:?} in {check}"
    );
    assert!(row.contains("ip_total_length,udp_length"), "{row}");
}

/// When the capture thread falls behind, the kernel drops what the ring
/// has no room for: iotpot says so in its log, with the count, and the
/// pcap files stay whole. The thread is made to fall behind for real: a
/// ptrace stop of that one thread (the honeypot's other threads run on)
/// while 20,000 datagrams of 1,400 bytes, 28 MB, meet an 8 MiB ring.
#[test]
fn a_capture_that_falls_behind_logs_what_the_kernel_dropped() {
    let dir = TempDir::new("capture-behind");
    let sent_file = dir.0.join("sent");
    let flood = format!(
        r#"python3 - $pid <<'PY'
import ctypes, os, socket, sys, time
pid = int(sys.argv[1])
tid = next(int(t) for t in os.listdir(f"/proc/{{pid}}/task")
           if open(f"/proc/{{pid}}/task/{{t}}/comm").read().strip() == "iotpot-capture")
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
def ptrace(request):
    if libc.ptrace(request, tid, None, None) != 0:
        raise OSError(ctypes.get_errno(), f"ptrace {{request:#x}}")
PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH, WALL = 0x4206, 0x4207, 17, 0x40000000
ptrace(PTRACE_SEIZE)
ptrace(PTRACE_INTERRUPT)
os.waitpid(tid, WALL)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = 0
for i in range(20000):
    u.sendto(b"B" * 1400, ("127.0.0.1", 53413))
    sent += 1
# The ring's blocks are retired (full or after 50 ms) while the thread
# is stopped; then it runs again and reads them.
time.sleep(0.3)
ptrace(PTRACE_DETACH)
open("{sent}", "w").write(str(sent))
PY
sleep 1
"#,
        sent = sent_file.display()
    );
    let log = in_netns(&dir, "", "pass", &flood);
    let sent: u64 = std::fs::read_to_string(&sent_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // What iotpot counted: the kernel's drops, reported once the thread
    // ran again (the last count logged is the total so far).
    let dropped: u64 = log
        .lines()
        .filter(|l| l.contains("packet capture: the kernel dropped packets"))
        .filter_map(|l| l.split("dropped=").nth(1))
        .filter_map(|v| v.split_whitespace().next()?.parse().ok())
        .max()
        .unwrap_or_else(|| panic!("no log line of dropped packets: {log}"));
    // What tcpdump finds of the flood in the files (they read whole).
    let mut captured = 0u64;
    for f in pcap_files(&dir) {
        let text = run_ok(
            Command::new("tcpdump")
                .args(["-nn", "-r"])
                .arg(&f)
                .arg("udp dst port 53413"),
        );
        captured += text.lines().filter(|l| l.ends_with("length 1400")).count() as u64;
    }
    eprintln!("{sent} sent, {captured} in the pcap files, {dropped} dropped by the kernel");
    assert!(
        captured > 0 && captured < sent,
        "{captured} of {sent} in the pcap files"
    );
    // Every datagram missing from the files is among the drops counted
    // (the drops may include the honeypot's few answers).
    assert!(
        captured + dropped >= sent,
        "{captured} captured + {dropped} dropped < {sent} sent\n{log}"
    );
}

/// Now as `pcap check` prints it, to the second.
fn time_now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M:%S"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

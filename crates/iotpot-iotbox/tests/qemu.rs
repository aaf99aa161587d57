//! Real QEMU: images built by `iotpot box build` (scripts/test builds mipsel
//! and arm64 into $IOTPOT_IMAGES), templates, commands over the serial
//! console, clean resets, and no way out to the host.

use iotpot_iotbox::{template, BoxArch, Image, RunError, Vm};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn images() -> PathBuf {
    PathBuf::from(std::env::var("IOTPOT_IMAGES").expect(
        "IOTPOT_IMAGES is not set: run the README's test command (scripts/test), which builds the images",
    ))
}

fn image(arch: &str) -> Image {
    Image::load(&images(), BoxArch::by_name(arch).unwrap(), true)
        .unwrap_or_else(|e| panic!("{arch}: {e:#}"))
}

fn run_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("iotbox-test-{tag}-{}", std::process::id()))
}

async fn sh(vm: &mut Vm, cmd: &str) -> String {
    let a = vm
        .run(cmd.as_bytes(), Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    String::from_utf8_lossy(&a.output).into_owned()
}

async fn reset_is_clean(arch: &str, uname_m: &str) {
    let img = image(arch);
    let dir = run_dir(arch);
    let tmpl = template::ensure(&img, &dir).await.unwrap().unwrap();
    let started = Instant::now();
    let mut vm = Vm::start(&img, &dir.join("a"), Some(&tmpl)).await.unwrap();
    assert_eq!(sh(&mut vm, "uname -m").await, format!("{uname_m}\n"));
    let restore = started.elapsed();
    // State persists within a sandbox: cd, files, variables, exit status.
    sh(&mut vm, "cd /tmp && X=42").await;
    assert_eq!(sh(&mut vm, "pwd; echo $X").await, "/tmp\n42\n");
    let a = vm.run(b"false", Duration::from_secs(10)).await.unwrap();
    assert_eq!(a.status, 1);
    // Bytes come back exactly, with no CR added and no echo.
    assert_eq!(
        sh(&mut vm, "printf 'a\\tb\\001\\n\\n'").await,
        "a\tb\x01\n\n"
    );
    // A long command line (past the tty's 4095-byte line limit).
    let long = format!("echo {} | wc -c", "x".repeat(6000));
    assert_eq!(sh(&mut vm, &long).await.trim(), "6001");
    // The attacker's changes...
    sh(
        &mut vm,
        "echo pwned > /root/pwned; hostname evil; sleep 1000 &",
    )
    .await;
    assert!(sh(&mut vm, "ls /root").await.contains("pwned"));
    vm.kill().await;
    // ... are gone in the next sandbox.
    let mut vm = Vm::start(&img, &dir.join("b"), Some(&tmpl)).await.unwrap();
    assert_eq!(sh(&mut vm, "ls /root; hostname").await, "(none)\n");
    assert!(!sh(&mut vm, "ps").await.contains("sleep 1000"));
    // A hung command is interrupted; the shell answers again.
    match vm.run(b"sleep 100", Duration::from_secs(1)).await {
        Err(RunError::Timeout { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(sh(&mut vm, "echo back").await, "back\n");
    // exit: init starts a new shell; the caller is told the state is gone.
    match vm.run(b"exit", Duration::from_secs(10)).await {
        Err(RunError::ShellRestarted { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(sh(&mut vm, "echo again").await, "again\n");
    eprintln!(
        "{arch}: restore to first answer {:.2} s, RSS {} MiB",
        restore.as_secs_f64(),
        vm.rss_kib().unwrap_or(0) / 1024
    );
    assert!(restore < Duration::from_secs(5), "restore took {restore:?}");
    vm.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mipsel_resets_clean() {
    reset_is_clean("mipsel", "mips").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arm64_resets_clean() {
    reset_is_clean("arm64", "aarch64").await;
}

// Every image Debian's packages make boots, answers, and resets clean
// (scripts/test builds all seven).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn armel_resets_clean() {
    reset_is_clean("armel", "armv7l").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn armhf_resets_clean() {
    reset_is_clean("armhf", "armv7l").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i686_resets_clean() {
    reset_is_clean("i686", "i686").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mips64el_resets_clean() {
    reset_is_clean("mips64el", "mips64").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ppc64el_resets_clean() {
    reset_is_clean("ppc64el", "ppc64le").await;
}

/// The guest has no network device: nothing reaches a listener on the host.
/// Each failure is checked for its reason, against a wget that works (a
/// server inside the guest), so a broken wget cannot pass for isolation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_cannot_reach_the_host() {
    let img = image("mipsel");
    let dir = run_dir("net");
    let tmpl = template::ensure(&img, &dir).await.unwrap().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut vm = Vm::start(&img, &dir.join("a"), Some(&tmpl)).await.unwrap();
    // Its only interface is loopback.
    assert_eq!(sh(&mut vm, "ls /sys/class/net").await, "lo\n");
    // wget works: a server inside the guest, on its own loopback.
    sh(
        &mut vm,
        "ip link set lo up; mkdir -p /tmp/www; echo inside > /tmp/www/f; httpd -p 127.0.0.1:8000 -h /tmp/www",
    )
    .await;
    assert_eq!(
        sh(&mut vm, "wget -q -O - http://127.0.0.1:8000/f").await,
        "inside\n"
    );
    // The host's port on 127.0.0.1 is the guest's own loopback: nothing
    // there. QEMU's user-network host alias and a LAN address: no route.
    for (target, reason) in [
        ("127.0.0.1", "Connection refused"),
        ("10.0.2.2", "Network is unreachable"),
        ("192.168.1.1", "Network is unreachable"),
    ] {
        let out = sh(
            &mut vm,
            &format!("wget -q -O - http://{target}:{port}/ 2>&1; echo rc=$?"),
        )
        .await;
        assert_eq!(
            out,
            format!("wget: can't connect to remote host ({target}): {reason}\nrc=1\n"),
            "{target}"
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        listener.accept().is_err(),
        "the host listener saw a connection"
    );
    vm.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

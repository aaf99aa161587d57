//! Headless Chromium driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: JSON messages ended by NUL, commands on the
//! browser's fd 3, answers and events on its fd 4), as Puppeteer does: one
//! page, JavaScript evaluated in it, what its console and the browser's log
//! said, dialogs it opened.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub struct Browser {
    child: Child,
    to: std::fs::File,
    inbox: Arc<(Mutex<Vec<Value>>, Condvar)>,
    next: u64,
    session: String,
    _profile: super::TempDir,
}

/// A pipe whose two ends are numbered 10 or above (so that giving them to
/// the browser as 3 and 4 never overwrites one with the other), closed on
/// exec: the browser gets only the two that dup2 gives it.
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) fills the two descriptors it creates; each is
    // duplicated above 10 and the original closed; the copies are owned here.
    unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        let high = fds.map(|fd| {
            let h = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10);
            assert!(h >= 10);
            libc::close(fd);
            h
        });
        (OwnedFd::from_raw_fd(high[0]), OwnedFd::from_raw_fd(high[1]))
    }
}

impl Browser {
    /// A headless Chromium with one blank page, console and log recorded.
    pub fn start() -> Browser {
        super::require("chromium");
        let profile = super::TempDir::new("chromium");
        let (their_in, our_out) = pipe();
        let (our_in, their_out) = pipe();
        let (fd_in, fd_out) = {
            use std::os::fd::AsRawFd;
            (their_in.as_raw_fd(), their_out.as_raw_fd())
        };
        let mut cmd = Command::new("chromium");
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.0.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only dup2 between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd_in, 3) < 0 || libc::dup2(fd_out, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("starting chromium");
        drop((their_in, their_out));
        let inbox: Arc<(Mutex<Vec<Value>>, Condvar)> = Arc::default();
        let reader = inbox.clone();
        std::thread::spawn(move || {
            let mut from = BufReader::new(std::fs::File::from(our_in));
            let mut msg = Vec::new();
            while from.read_until(0, &mut msg).is_ok_and(|n| n > 0) {
                if msg.last() == Some(&0) {
                    msg.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&msg) {
                    reader.0.lock().unwrap().push(v);
                    reader.1.notify_all();
                }
                msg.clear();
            }
        });
        let mut b = Browser {
            child,
            to: std::fs::File::from(our_out),
            inbox,
            next: 0,
            session: String::new(),
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            b.call(domain, json!({}));
        }
        b
    }

    /// A command and its result (on the page once attached).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let (lock, cv) = &*self.inbox;
        let mut inbox = lock.lock().unwrap();
        loop {
            if let Some(m) = inbox.iter().find(|m| m["id"] == id) {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{method}: no answer from chromium");
            inbox = cv.wait_timeout(inbox, left).unwrap().0;
        }
    }

    /// Go to `url` and wait until it has loaded.
    pub fn goto(&mut self, url: &str) {
        let before = self.events("Page.loadEventFired").len();
        self.call("Page.navigate", json!({"url": url}));
        self.until(&format!("{url} loaded"), |b| {
            b.events("Page.loadEventFired").len() > before
        });
    }

    /// The value of a JavaScript expression in the page (promises awaited).
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// Wait (20 s at most) until `cond` holds.
    pub fn until(&mut self, what: &str, mut cond: impl FnMut(&mut Browser) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cond(self) {
            assert!(Instant::now() < deadline, "never happened: {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The parameters of every event of that method received so far.
    pub fn events(&self, method: &str) -> Vec<Value> {
        self.inbox
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m["method"] == method)
            .map(|m| m["params"].clone())
            .collect()
    }

    /// Console messages, uncaught exceptions, browser log entries
    /// (Content-Security-Policy violations among them) and dialogs, as text.
    pub fn complaints(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in self.events("Runtime.consoleAPICalled") {
            out.push(format!("console.{}: {}", m["type"], m["args"]));
        }
        for m in self.events("Runtime.exceptionThrown") {
            out.push(format!("exception: {}", m["exceptionDetails"]));
        }
        for m in self.events("Log.entryAdded") {
            out.push(format!(
                "log {}: {}",
                m["entry"]["level"], m["entry"]["text"]
            ));
        }
        for m in self.events("Page.javascriptDialogOpening") {
            out.push(format!("dialog: {}", m["message"]));
        }
        out
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

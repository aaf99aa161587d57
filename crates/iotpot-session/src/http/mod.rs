//! A device web server, without I/O: which page a request gets (the
//! profile's pages, Basic auth, bait configs, the camera), the events it
//! makes, and the bytes of the answer as the imitated server writes them.
//!
//! The frontend's driver reads request heads and bodies off the socket,
//! renders the camera's frames and streams them; everything it sends comes
//! from here.

pub mod dropper;
pub mod response;
pub mod trap;

use iotpot_core::escape::bytes_to_string;
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::profile::{HttpProfile, PageKind};
use iotpot_core::sample::sha256_hex;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_shell::{System, Tool};
use iotpot_wire::http::{basic_auth, Request};
use response::{has_length, head, Head};
use std::sync::Arc;
use time::OffsetDateTime;

/// Request body bytes recorded in the event (the hash covers what was read).
const BODY_IN_EVENT: usize = 256;

/// What a request gets.
#[derive(Debug)]
pub enum Page {
    Body {
        status: u16,
        content_type: String,
        body: Arc<Vec<u8>>,
        /// Response-specific header lines.
        extra: Vec<String>,
    },
    /// A JPEG of the camera, now (the driver renders it), as the page's
    /// type.
    Snapshot {
        content_type: String,
        extra: Vec<String>,
    },
    /// The camera's MJPEG stream, until the viewer leaves.
    Stream,
    /// A trap of the profile: run its command in the source's shell
    /// ([`trap::Run`]), then answer with [`Site::trap_page`].
    Trap(trap::Hit),
}

/// A routed request.
#[derive(Debug)]
pub struct Routed {
    pub page: Page,
    /// `http.request` first, then any bait alarm.
    pub events: Vec<EventKind>,
    /// The connection may serve another request after this one.
    pub keep_alive: bool,
}

/// One listener's web server: the device and the credentials it accepts.
#[derive(Debug)]
pub struct Site {
    pub device: Arc<System>,
    /// Basic credentials accepted (bait placeholders filled).
    credentials: Vec<(String, String)>,
    traps: trap::Traps,
}

impl Site {
    pub fn new(device: Arc<System>, tokens: &Honeytokens) -> Site {
        let credentials = device
            .persona
            .profile
            .http
            .credentials
            .iter()
            .filter_map(|c| {
                let c = tokens.fill(c);
                c.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            })
            .collect();
        let traps = trap::Traps::new(&device.persona.profile.http.traps);
        Site {
            device,
            credentials,
            traps,
        }
    }

    fn http(&self) -> &HttpProfile {
        &self.device.persona.profile.http
    }

    /// The trap of the profile `req` reaches, if any: what [`Site::route`]
    /// takes (the driver may first look whether the file it reads is
    /// there, and route past it when not).
    pub fn trap_hit(&self, req: &Request, body: &[u8]) -> Option<trap::Hit> {
        self.traps.find(&self.http().traps, req, body)
    }

    /// Route one request. `body` is what was read of it (at most the
    /// driver's limit), `announced` its Content-Length; `hit` the trap it
    /// reaches ([`Site::trap_hit`]), which goes before the pages. A bait
    /// page handed out is remembered in `tokens`, for the alarm when it is
    /// used.
    pub fn route(
        &self,
        req: &Request,
        body: &[u8],
        hit: Option<trap::Hit>,
        tokens: &Honeytokens,
        info: &SessionInfo,
    ) -> Routed {
        let announced = req.content_length().unwrap_or(0);
        let auth = req.header("authorization").and_then(basic_auth);
        let authorized = auth
            .as_ref()
            .is_some_and(|a| self.credentials.iter().any(|c| c == a));
        let http = self.http();
        let unauthorized = || {
            self.error(
                401,
                vec![format!("WWW-Authenticate: {}", http.www_authenticate)],
            )
        };
        let page = match (hit, http.pages.get(req.path())) {
            // `{nonce}`: fresh for every challenge, as a device's is.
            (Some(hit), _) if hit.challenge => self.error(
                401,
                vec![format!(
                    "WWW-Authenticate: {}",
                    http.traps[hit.index]
                        .challenge
                        .replace("{nonce}", &format!("{:032x}", fastrand::u128(..)))
                )],
            ),
            (Some(hit), _) if http.traps[hit.index].auth && !authorized => unauthorized(),
            (Some(hit), _) => Page::Trap(hit),
            (None, None) => self.error(404, Vec::new()),
            (None, Some(page)) if page.auth && !authorized => unauthorized(),
            (None, Some(page)) => match page.kind {
                PageKind::Static => served(page, &page.body),
                PageKind::Leak => {
                    tokens.leaked("dvr.cfg", &info.session, info.src.ip());
                    served(page, &tokens.fill(&page.body))
                }
                PageKind::Snapshot => {
                    tokens.leaked("video", &info.session, info.src.ip());
                    Page::Snapshot {
                        content_type: page.content_type.clone(),
                        extra: page.headers.clone(),
                    }
                }
                PageKind::Mjpeg => {
                    tokens.leaked("video", &info.session, info.src.ip());
                    Page::Stream
                }
            },
        };
        let status = match &page {
            Page::Body { status, .. } => *status,
            Page::Snapshot { .. } | Page::Stream => 200,
            Page::Trap(hit) => http.traps[hit.index].status,
        };
        let header = |n: &str| req.header(n).map(bytes_to_string);
        let mut events = vec![EventKind::HttpRequest {
            method: req.method.clone(),
            path: req.path().to_string(),
            query: req.query().to_string(),
            version: format!("HTTP/1.{}", req.minor_version),
            headers: req
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), bytes_to_string(v)))
                .collect(),
            user_agent: header("user-agent"),
            username: auth.as_ref().map(|a| a.0.clone()),
            password: auth.as_ref().map(|a| a.1.clone()),
            body_length: announced,
            body_sha256: (!body.is_empty()).then(|| sha256_hex(body)),
            body: (!body.is_empty()).then(|| hex::encode(&body[..body.len().min(BODY_IN_EVENT)])),
            status,
        }];
        if let Page::Trap(hit) = &page {
            let t = &http.traps[hit.index];
            events.push(EventKind::ExploitHit {
                trap: t.id.clone(),
                cves: t.cves.clone(),
                profile: self.device.persona.profile.name.clone(),
                raw: hit.raw.clone(),
                command: hit.command.clone(),
            });
        }
        if let Some((u, p)) = &auth {
            events.extend(tokens.check_login(u, p, "http-basic", info.src.ip()));
        }
        let whole_body = body.len() as u64 == announced;
        let keep_alive = !matches!(page, Page::Stream)
            && http.keep_alive
            && has_length(http)
            && req.keep_alive()
            && whole_body;
        Routed {
            page,
            events,
            keep_alive,
        }
    }

    /// The droppers `req` carries ([`dropper`]): an `http.suspicious`
    /// event per part that holds one, and the URLs its command lines would
    /// fetch as this device's shell reads them (each once), for the
    /// downloader. Each line runs alone in a scratch shell, so one broken
    /// line does not hide the others.
    pub fn droppers(
        &self,
        req: &Request,
        body: &[u8],
        now: i64,
    ) -> (Vec<EventKind>, Vec<(String, Tool)>) {
        let mut events = Vec::new();
        let mut all: Vec<(String, Tool)> = Vec::new();
        for f in dropper::find(req, body) {
            let mut urls: Vec<String> = Vec::new();
            for line in f.command.lines() {
                for (url, tool) in
                    iotpot_shell::script_downloads(self.device.clone(), line.as_bytes(), now)
                {
                    if urls.len() < dropper::MAX_URLS && !urls.contains(&url) {
                        urls.push(url.clone());
                    }
                    if all.len() < dropper::MAX_URLS && !all.iter().any(|(u, _)| *u == url) {
                        all.push((url, tool));
                    }
                }
            }
            events.push(EventKind::HttpSuspicious {
                location: f.location,
                raw: f.raw,
                command: f.command,
                urls,
            });
        }
        (events, all)
    }

    /// A trap's answer once its lines ran: `output` is what they printed,
    /// `file` the device file the trap reads (the server's 404 when it
    /// reads one its command was to write and did not).
    pub fn trap_page(&self, hit: &trap::Hit, output: &[u8], file: Option<&[u8]>) -> Page {
        let t = &self.http().traps[hit.index];
        if hit.read.is_some() && file.is_none() {
            return self.error(404, Vec::new());
        }
        Page::Body {
            status: t.status,
            content_type: t.content_type.clone(),
            body: Arc::new(trap::body(t, output, file)),
            extra: t.headers.clone(),
        }
    }

    /// The trap a hit is of.
    pub fn trap(&self, hit: &trap::Hit) -> &iotpot_core::trap::Trap {
        &self.http().traps[hit.index]
    }

    /// The profile's error page for `status`.
    fn error(&self, status: u16, extra: Vec<String>) -> Page {
        let http = self.http();
        Page::Body {
            status,
            content_type: http.error_type.clone(),
            body: Arc::new(self.error_body(status).into_bytes()),
            extra,
        }
    }

    fn error_body(&self, status: u16) -> String {
        let errors = &self.http().errors;
        errors.get(&status.to_string()).cloned().unwrap_or_default()
    }

    /// A whole response: head, then the body unless `head_only` (`HEAD`).
    pub fn response(
        &self,
        status: u16,
        content_type: &str,
        body: &[u8],
        extra: Vec<String>,
        head_only: bool,
        now: OffsetDateTime,
    ) -> Vec<u8> {
        let mut out = head(
            self.http(),
            &Head {
                status,
                content_type,
                length: Some(body.len()),
                extra,
            },
            now,
        );
        if !head_only {
            out.extend_from_slice(body);
        }
        out
    }

    /// The head of a stream (no length: the body ends with the connection).
    pub fn stream_head(&self, content_type: &str, now: OffsetDateTime) -> Vec<u8> {
        head(
            self.http(),
            &Head {
                status: 200,
                content_type,
                length: None,
                extra: Vec::new(),
            },
            now,
        )
    }

    /// Bytes that are not a request: the device's 400 page, and the event
    /// (the connection closes after it).
    pub fn malformed(
        &self,
        received: &[u8],
        reason: String,
        now: OffsetDateTime,
    ) -> (Vec<u8>, EventKind) {
        let body = self.error_body(400);
        let error_type = &self.http().error_type;
        let bytes = self.response(400, error_type, body.as_bytes(), Vec::new(), false, now);
        let event = EventKind::HttpMalformed {
            reason,
            payload: hex::encode(&received[..received.len().min(BODY_IN_EVENT)]),
            status: 400,
        };
        (bytes, event)
    }
}

/// A page of the profile, with this body.
fn served(page: &iotpot_core::profile::Page, body: &str) -> Page {
    Page::Body {
        status: page.status,
        content_type: page.content_type.clone(),
        body: Arc::new(body.as_bytes().to_vec()),
        extra: page.headers.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotpot_core::deployment::Deployment;
    use iotpot_core::Profile;
    use iotpot_wire::http::parse_head;

    fn site(profile: &str) -> (Site, Honeytokens) {
        let d = Deployment::from_seed([3; 32]);
        let tokens = Honeytokens::new(&d);
        let p = Profile::load(profile).unwrap().instantiate(&d);
        (Site::new(System::new(p, 1_700_000_000), &tokens), tokens)
    }

    fn info() -> SessionInfo {
        SessionInfo::new(
            "127.0.0.1:4000".parse().unwrap(),
            "127.0.0.1:8080".parse().unwrap(),
            "test".into(),
            "http",
        )
    }

    fn route(site: &Site, tokens: &Honeytokens, raw: &[u8]) -> Routed {
        let (req, n) = parse_head(raw).unwrap().unwrap();
        let hit = site.trap_hit(&req, &raw[n..]);
        site.route(&req, &raw[n..], hit, tokens, &info())
    }

    #[test]
    fn pages_auth_and_errors() {
        let (site, tokens) = site("router-web");
        let r = route(&site, &tokens, b"GET /nope HTTP/1.1\r\n\r\n");
        assert!(matches!(r.page, Page::Body { status: 404, .. }));
        let r = route(&site, &tokens, b"GET / HTTP/1.1\r\n\r\n");
        let Page::Body { status, extra, .. } = &r.page else {
            panic!("{r:?}")
        };
        assert_eq!(*status, 401);
        assert!(extra[0].starts_with("WWW-Authenticate: Basic realm="));
        let r = route(
            &site,
            &tokens,
            b"GET / HTTP/1.1\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n",
        );
        assert!(matches!(r.page, Page::Body { status: 200, .. }));
        assert!(matches!(
            &r.events[0],
            EventKind::HttpRequest { username: Some(u), password: Some(p), status: 200, .. }
                if u == "admin" && p == "admin"
        ));
    }

    #[test]
    fn the_bait_config_is_filled_and_remembered() {
        let (site, tokens) = site("dvr");
        let r = route(&site, &tokens, b"GET /DVR.cfg HTTP/1.0\r\n\r\n");
        let Page::Body { body, .. } = &r.page else {
            panic!("{r:?}")
        };
        let text = String::from_utf8_lossy(body);
        let bait = tokens.get("dvr").unwrap();
        assert!(text.contains(&bait.password), "{text}");
        assert!(!r.keep_alive, "uc-httpd closes after each answer");
        // Using the bait now names the session that received it.
        let alarm = tokens
            .check_login(&bait.user, &bait.password, "telnet-login", info().src.ip())
            .unwrap();
        assert!(format!("{alarm:?}").contains("dvr.cfg"));
    }

    #[test]
    fn malformed_bytes_get_the_devices_400() {
        let (site, _) = site("dvr");
        let (bytes, event) = site.malformed(
            b"\x16\x03\x01",
            "not HTTP".into(),
            OffsetDateTime::UNIX_EPOCH,
        );
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("HTTP/1.0 400 Bad Request\r\n"), "{text}");
        assert!(text.contains("Server: uc-httpd 1.0.0"));
        assert!(matches!(
            event,
            EventKind::HttpMalformed { status: 400, .. }
        ));
    }
}

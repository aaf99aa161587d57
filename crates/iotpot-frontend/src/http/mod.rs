//! The HTTP service of device profiles (`[[listen]] service = "http"`): a
//! raw HTTP/1.x server that answers exactly as the imitated device does
//! (status line, header order and spelling, error pages, Basic auth realm),
//! leaks bait configs, streams a camera's generated video, and records
//! every request. What a request gets is decided without I/O in
//! [`iotpot_session::http`]; this module reads, renders and writes.
//!
//! - [`driver`]: one connection: read heads, route, answer, stream.
//! - [`trap`]: an exploit trap's command, run in its source's shell.
//! - [`video`]: the camera's frames.

pub mod driver;
pub mod trap;
pub mod video;

use iotpot_core::config::Limits;
use iotpot_core::honeytoken::Honeytokens;
use iotpot_session::http::Site;
use iotpot_shell::System;
use iotpot_store::EventTx;
use std::sync::Arc;

/// What every connection to one HTTP listener shares.
pub struct HttpContext {
    pub site: Site,
    pub limits: Limits,
    pub events: EventTx,
    pub tokens: Arc<Honeytokens>,
    pub camera: Arc<video::Camera>,
    /// Fetches the droppers that requests carry.
    pub downloads: Arc<crate::downloads::Downloads>,
    /// The shells of the sources that reached a trap.
    pub sources: trap::Sources,
}

impl HttpContext {
    pub fn new(
        device: Arc<System>,
        limits: Limits,
        events: EventTx,
        tokens: Arc<Honeytokens>,
        downloads: Arc<crate::downloads::Downloads>,
    ) -> HttpContext {
        let http = &device.persona.profile.http;
        let note = http.video.note.iter().map(|l| tokens.fill(l)).collect();
        let camera = Arc::new(video::Camera::new(&http.video, note));
        HttpContext {
            site: Site::new(device, &tokens),
            limits,
            events,
            tokens,
            camera,
            downloads,
            sources: trap::Sources::default(),
        }
    }
}

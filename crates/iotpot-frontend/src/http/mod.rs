//! The HTTP service of device profiles (`[[listen]] service = "http"`): a
//! raw HTTP/1.x server that answers exactly as the imitated device does
//! (status line, header order and spelling, error pages, Basic auth realm),
//! leaks bait configs, streams a camera's generated video, and records
//! every request.
//!
//! - [`response`]: response heads from the profile's template.
//! - [`driver`]: one connection: read heads, route, answer, stream.
//! - [`video`]: the camera's frames.

pub mod driver;
pub mod response;
pub mod video;

use iotpot_core::config::Limits;
use iotpot_core::honeytoken::Honeytokens;
use iotpot_shell::System;
use iotpot_store::EventTx;
use std::sync::Arc;

/// What every connection to one HTTP listener shares.
pub struct HttpContext {
    pub device: Arc<System>,
    pub limits: Limits,
    pub events: EventTx,
    pub tokens: Arc<Honeytokens>,
    pub camera: Arc<video::Camera>,
    /// Basic credentials accepted (bait placeholders filled).
    pub credentials: Vec<(String, String)>,
}

impl HttpContext {
    pub fn new(
        device: Arc<System>,
        limits: Limits,
        events: EventTx,
        tokens: Arc<Honeytokens>,
    ) -> HttpContext {
        let http = &device.persona.profile.http;
        let note = http.video.note.iter().map(|l| tokens.fill(l)).collect();
        let camera = Arc::new(video::Camera::new(&http.video, note));
        let credentials = http
            .credentials
            .iter()
            .filter_map(|c| {
                let c = tokens.fill(c);
                c.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            })
            .collect();
        HttpContext {
            device,
            limits,
            events,
            tokens,
            camera,
            credentials,
        }
    }
}

//! A camera's picture: a generated room with the camera's timestamp overlay
//! and, as bait, a note on the wall holding a user name and password (the
//! IoTPOT paper pointed a real camera at such a note: whoever types those
//! credentials was watching).
//!
//! Frames are JPEG, rendered at most once per frame period per camera and
//! shared by every viewer, so the CPU cost does not grow with the audience.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use font8x8::UnicodeFonts;
use iotpot_core::profile::VideoProfile;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;

pub struct Camera {
    width: u16,
    height: u16,
    fps: u32,
    title: String,
    note: Vec<String>,
    pub boundary: String,
    /// The latest frame: (frame slot, JPEG).
    cache: Mutex<Option<(u64, Arc<Vec<u8>>)>>,
    /// One render at a time; the others wait and take the cached frame.
    rendering: tokio::sync::Mutex<()>,
    /// The room and the note, drawn once (RGB); each frame adds noise and
    /// the overlay.
    scene: std::sync::OnceLock<Vec<u8>>,
}

impl Camera {
    /// `note` already has its bait placeholders filled.
    pub fn new(v: &VideoProfile, note: Vec<String>) -> Camera {
        Camera {
            width: v.width.clamp(16, 1920) as u16,
            height: v.height.clamp(16, 1080) as u16,
            fps: v.fps.clamp(1, 15),
            title: v.title.clone(),
            note,
            boundary: v.boundary.clone(),
            cache: Mutex::new(None),
            rendering: tokio::sync::Mutex::new(()),
            scene: std::sync::OnceLock::new(),
        }
    }

    pub fn frame_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(1000 / self.fps as u64)
    }

    fn slot(&self) -> (u64, i64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let period = 1000 / self.fps as u64;
        (now.as_millis() as u64 / period, now.as_secs() as i64)
    }

    fn cached(&self, slot: u64) -> Option<Arc<Vec<u8>>> {
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.as_ref()
            .filter(|(s, _)| *s == slot)
            .map(|(_, f)| f.clone())
    }

    /// The current frame as JPEG.
    pub async fn frame(self: &Arc<Self>) -> Arc<Vec<u8>> {
        let (slot, secs) = self.slot();
        if let Some(f) = self.cached(slot) {
            return f;
        }
        let _one = self.rendering.lock().await;
        if let Some(f) = self.cached(slot) {
            return f;
        }
        let me = self.clone();
        let jpeg = tokio::task::spawn_blocking(move || me.render(slot, secs))
            .await
            .unwrap_or_default();
        let jpeg = Arc::new(jpeg);
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((slot, jpeg.clone()));
        jpeg
    }

    /// The room and the note: the same in every frame (drawn once).
    fn draw_scene(&self) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut img = Image {
            w,
            h,
            px: vec![0; w * h * 3],
        };
        // Wall, floor, desk, monitor.
        let floor_y = h * 7 / 10;
        for y in 0..h {
            let c = if y < floor_y {
                let t = (y * 40 / floor_y) as u8;
                [200 - t, 190 - t, 168 - t]
            } else {
                let t = ((y - floor_y) * 30 / (h - floor_y).max(1)) as u8;
                [112 - t, 92 - t, 72 - t]
            };
            img.rect(0, y, w, 1, c);
        }
        img.rect(w / 8, h * 6 / 10, w * 5 / 8, h / 20, [118, 78, 46]);
        img.rect(
            w / 8 + w / 40,
            h * 6 / 10 + h / 20,
            w / 40,
            h * 3 / 10,
            [96, 62, 36],
        );
        img.rect(
            w * 5 / 8,
            h * 6 / 10 + h / 20,
            w / 40,
            h * 3 / 10,
            [96, 62, 36],
        );
        img.rect(w / 5, h * 3 / 10, w / 4, h * 3 / 10 - h / 40, [28, 28, 32]);
        img.rect(
            w / 5 + 6,
            h * 3 / 10 + 6,
            w / 4 - 12,
            h * 3 / 10 - h / 40 - 12,
            [46, 66, 92],
        );
        img.rect(
            w / 5 + w / 8 - w / 60,
            h * 6 / 10 - h / 40,
            w / 30,
            h / 40,
            [40, 40, 44],
        );
        // The note, pinned to the wall at the right of the screen: printed
        // in a clear bold face, big enough to read through a JPEG stream.
        let px = (h as f32 / 17.0).max(10.0);
        let (line_h, char_w) = (px * 1.25, px * 0.62);
        let cols = self
            .note
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let pad = (px * 0.6) as usize;
        let (nw, nh) = (
            (cols as f32 * char_w) as usize + 2 * pad,
            (self.note.len() as f32 * line_h) as usize + 2 * pad,
        );
        let (nx, ny) = (
            (w * 3 / 4).saturating_sub(nw / 2).min(w.saturating_sub(nw)),
            h / 8,
        );
        img.rect(nx + 3, ny + 3, nw, nh, [150, 140, 110]);
        img.rect(nx, ny, nw, nh, [250, 236, 120]);
        for (i, line) in self.note.iter().enumerate() {
            img.print(
                (nx + pad) as f32,
                ny as f32 + pad as f32 + px + i as f32 * line_h - px * 0.2,
                line,
                px,
                [20, 20, 60],
            );
        }
        img.px
    }

    /// Draw the scene at `secs` (frame `slot`) and encode it.
    pub fn render(&self, slot: u64, secs: i64) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut img = Image {
            w,
            h,
            px: self.scene.get_or_init(|| self.draw_scene()).clone(),
        };
        // Sensor noise and a slight flicker: every frame differs, as live
        // video does.
        let mut r = slot.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let flicker = (slot % 7) as i16 - 3;
        for p in img.px.iter_mut() {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            let n = (r % 9) as i16 - 4 + flicker;
            *p = (*p as i16 + n).clamp(0, 255) as u8;
        }
        // The camera's overlay: date and time, camera name.
        let t = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let stamp = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        // The overlay's blocky 8x8 font, as camera firmware draws it.
        let scale = (w / 320).max(1);
        img.shadowed(8, 8, &stamp, scale);
        img.shadowed(8, h.saturating_sub(8 + 8 * scale), &self.title, scale);
        let mut out = Vec::with_capacity(w * h / 8);
        let enc = jpeg_encoder::Encoder::new(&mut out, 75);
        if let Err(e) = enc.encode(
            &img.px,
            self.width,
            self.height,
            jpeg_encoder::ColorType::Rgb,
        ) {
            tracing::error!(error = %e, "encoding a video frame failed");
        }
        out
    }
}

/// The note's typeface (DejaVu Sans Mono Bold, `assets/`, with its licence).
fn note_font() -> Option<&'static FontRef<'static>> {
    static FONT: std::sync::OnceLock<Option<FontRef<'static>>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(include_bytes!("../../assets/DejaVuSansMono-Bold.ttf")).ok()
    })
    .as_ref()
}

struct Image {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Image {
    fn rect(&mut self, x: usize, y: usize, w: usize, h: usize, c: [u8; 3]) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                let i = (yy * self.w + xx) * 3;
                self.px[i..i + 3].copy_from_slice(&c);
            }
        }
    }

    fn text(&mut self, x: usize, y: usize, s: &str, scale: usize, c: [u8; 3]) {
        for (n, ch) in s.chars().enumerate() {
            let Some(glyph) = font8x8::BASIC_FONTS.get(ch) else {
                continue;
            };
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits >> col & 1 == 1 {
                        self.rect(x + (n * 8 + col) * scale, y + row * scale, scale, scale, c);
                    }
                }
            }
        }
    }

    /// `s` in the note's typeface, `px` high, its baseline at `y`:
    /// anti-aliased (each pixel blended by the glyph's coverage).
    fn print(&mut self, x: f32, y: f32, s: &str, px: f32, c: [u8; 3]) {
        let Some(font) = note_font() else {
            return;
        };
        let font = font.as_scaled(PxScale::from(px));
        let mut caret = x;
        for ch in s.chars() {
            let glyph = font.scaled_glyph(ch);
            let advance = font.h_advance(glyph.id);
            let mut glyph = glyph;
            glyph.position = ab_glyph::point(caret, y);
            caret += advance;
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let (px, py) = (
                    bounds.min.x as i64 + gx as i64,
                    bounds.min.y as i64 + gy as i64,
                );
                if px < 0 || py < 0 || px as usize >= self.w || py as usize >= self.h {
                    return;
                }
                let i = (py as usize * self.w + px as usize) * 3;
                let a = coverage.clamp(0.0, 1.0);
                for (under, over) in self.px[i..i + 3].iter_mut().zip(c) {
                    let u = *under as f32;
                    *under = (u + (over as f32 - u) * a) as u8;
                }
            });
        }
    }

    fn shadowed(&mut self, x: usize, y: usize, s: &str, scale: usize) {
        self.text(x + 1, y + 1, s, scale, [0, 0, 0]);
        self.text(x, y, s, scale, [255, 255, 255]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_jpeg_and_differ() {
        let cam = Camera::new(&VideoProfile::default(), vec!["user: admin".into()]);
        let a = cam.render(1, 1_700_000_000);
        let b = cam.render(2, 1_700_000_001);
        assert!(a.starts_with(&[0xff, 0xd8]) && a.ends_with(&[0xff, 0xd9]));
        assert_ne!(a, b);
    }
}

//! `events.jsonl`: one JSON object per line, cowrie-compatible field names.

use crate::Sink;
use iotpot_core::Event;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

pub struct JsonlSink {
    out: BufWriter<File>,
}

impl JsonlSink {
    pub fn open(path: &Path) -> std::io::Result<JsonlSink> {
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(JsonlSink {
            out: BufWriter::with_capacity(64 << 10, f),
        })
    }
}

impl Sink for JsonlSink {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn write(&mut self, _events: &[Event], json: &[String]) -> anyhow::Result<()> {
        for line in json {
            self.out.write_all(line.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

//! `events.jsonl`: one JSON object per line, cowrie-compatible field names.

use crate::Sink;
use iotpot_core::Event;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

pub struct JsonlSink {
    out: BufWriter<File>,
    /// Lines of the batch in progress written already, or the error that
    /// stopped them.
    staged: std::io::Result<usize>,
}

impl JsonlSink {
    pub fn open(path: &Path) -> std::io::Result<JsonlSink> {
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(JsonlSink {
            out: BufWriter::with_capacity(64 << 10, f),
            staged: Ok(0),
        })
    }
}

impl Sink for JsonlSink {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn stage(&mut self, _events: &[Event], json: &[String]) {
        if let Ok(n) = self.staged {
            self.staged = lines(&mut self.out, json).map(|()| n + json.len());
        }
    }

    fn write(&mut self, _events: &[Event], json: &[String]) -> anyhow::Result<()> {
        let done = std::mem::replace(&mut self.staged, Ok(0))?;
        lines(&mut self.out, json.get(done..).unwrap_or_default())?;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

fn lines(out: &mut impl Write, json: &[String]) -> std::io::Result<()> {
    for line in json {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_lines_and_the_rest_are_each_written_once_in_order() {
        let path = std::env::temp_dir().join(format!("iotpot-jsonl-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut sink = JsonlSink::open(&path).unwrap();
        let json: Vec<String> = (0..5).map(|i| format!("{{\"n\":{i}}}")).collect();
        sink.stage(&[], &json[..2]);
        sink.stage(&[], &json[2..3]);
        sink.write(&[], &json).unwrap();
        sink.write(&[], &json[..1]).unwrap();
        sink.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":0}\n"
        );
        std::fs::remove_file(&path).ok();
    }
}

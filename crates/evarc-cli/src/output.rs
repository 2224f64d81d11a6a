//! Writing results: text for people, one JSON document for programs (`--json`).

use std::io::{self, Write};

use anyhow::Result;
use serde::Serialize;

/// Standard output, buffered, in the mode the user asked for.
pub struct Output {
    pub json: bool,
    out: io::BufWriter<io::Stdout>,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self {
            json,
            out: io::BufWriter::new(io::stdout()),
        }
    }

    /// A line of text (ignored in JSON mode, where [`Output::value`] carries the result).
    pub fn line(&mut self, text: impl AsRef<str>) -> Result<()> {
        if !self.json {
            writeln!(self.out, "{}", text.as_ref())?;
        }
        Ok(())
    }

    /// Text written as is, in any mode (citations, certifications, raw bytes).
    pub fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes)?;
        Ok(())
    }

    /// Text written as is in text mode only (a checkpoint, a proof), beside a JSON result.
    pub fn raw_text(&mut self, text: &str) -> Result<()> {
        if !self.json {
            self.out.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    /// The JSON result (only in JSON mode): one document, pretty-printed, newline-terminated.
    pub fn value(&mut self, value: &impl Serialize) -> Result<()> {
        if self.json {
            serde_json::to_writer_pretty(&mut self.out, value)?;
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// One compact JSON object on its own line, flushed at once (streams of results).
    pub fn json_line(&mut self, value: &impl Serialize) -> Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        writeln!(self.out)?;
        self.out.flush()?;
        Ok(())
    }

    /// A line of text flushed at once (streams of results).
    pub fn line_flushed(&mut self, text: &str) -> Result<()> {
        self.line(text)?;
        self.out.flush()?;
        Ok(())
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

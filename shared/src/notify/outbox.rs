use std::io::Write;
use std::path::PathBuf;

use super::NotifyError;

/// Appends one JSON object per line to `{dir}/{channel}.jsonl`. One `write` per line with
/// `O_APPEND`, so lines from concurrent functions do not interleave.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>) -> Outbox {
        Outbox { dir: dir.into() }
    }

    pub fn path(&self, channel: &str) -> PathBuf {
        self.dir.join(format!("{channel}.jsonl"))
    }

    pub fn append(
        &self,
        channel: &'static str,
        value: &serde_json::Value,
    ) -> Result<(), NotifyError> {
        let transport = |e: std::io::Error| NotifyError::Transport {
            channel,
            source: Box::new(e),
        };
        std::fs::create_dir_all(&self.dir).map_err(transport)?;
        let mut line = value.to_string();
        line.push('\n');
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(channel))
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(transport)
    }
}

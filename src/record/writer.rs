//! Writing a recording: events in batches as they arrive, a row group out
//! whenever one is full, the footer (with the metadata) at the end.
//!
//! The file is written under a hidden name beside its own (`.NAME.partial`)
//! and renamed when finished, so a reader (or a glob over a directory of
//! recordings) never sees a file without its footer.
use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::schema::{schema, to_record_batch};
use super::{keys, realtime_offset_ns, uname, RecordError, Result, FORMAT};
use crate::kernel::Event;

/// Rows of one row group at most: large enough for the columns to compress
/// well, small enough that a recording holds little in memory.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Bytes a row group in progress may take in memory (captures make rows
/// large) before it is written out.
pub const ROW_GROUP_BYTES: usize = 64 << 20;

pub struct Writer {
    writer: Option<ArrowWriter<File>>,
    path: PathBuf,
    partial: PathBuf,
    rows: u64,
}

/// Where a recording is written until it is finished: `.NAME.partial` in
/// the same directory (renaming it is then atomic).
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

impl Writer {
    /// Creates the file (as `.NAME.partial` until [`finish`](Self::finish)).
    pub fn create(path: &Path) -> Result<Writer> {
        let shown = path.display().to_string();
        if path.file_name().is_none() || path.is_dir() {
            return Err(RecordError::io(
                format!("can't record to {shown}"),
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "not a file name"),
            ));
        }
        let partial = partial_path(path);
        let file = File::create(&partial)
            .map_err(|e| RecordError::io(format!("can't create {shown}"), e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(1).expect("1 is a zstd level"),
            ))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .set_created_by(format!("systrace {}", env!("CARGO_PKG_VERSION")))
            .build();
        let mut writer = ArrowWriter::try_new(file, schema(), Some(props))
            .map_err(|e| RecordError::parquet(format!("writing {shown}"), e))?;
        let (kernel, host) = uname();
        for (key, value) in [
            (keys::FORMAT, FORMAT.to_owned()),
            (keys::VERSION, env!("CARGO_PKG_VERSION").to_owned()),
            (keys::KERNEL, kernel),
            (keys::ARCH, std::env::consts::ARCH.to_owned()),
            (keys::HOST, host),
            (keys::CLOCK, "CLOCK_MONOTONIC".to_owned()),
            (keys::REALTIME_OFFSET, realtime_offset_ns().to_string()),
        ] {
            writer.append_key_value_metadata(KeyValue::new(key.to_owned(), value));
        }
        Ok(Writer {
            writer: Some(writer),
            path: path.to_owned(),
            partial,
            rows: 0,
        })
    }

    fn error(&self, err: impl std::fmt::Display) -> RecordError {
        RecordError::parquet(format!("writing {}", self.path.display()), err)
    }

    /// Appends events; writes a row group out when one is full.
    pub fn write(&mut self, events: &[Event]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let batch = to_record_batch(events);
        let writer = self.writer.as_mut().expect("written before finish");
        let result = writer.write(&batch).and_then(|()| {
            // The row group's limits count encoded bytes; its memory (pages
            // not yet compressed, dictionaries) is bounded here too.
            if writer.memory_size() > ROW_GROUP_BYTES {
                writer.flush()
            } else {
                Ok(())
            }
        });
        result.map_err(|e| self.error(e))?;
        self.rows += events.len() as u64;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the last row group and the footer with `metadata` added to the
    /// file's key-value metadata (with the row count), and gives the file
    /// its name. Returns the rows written.
    pub fn finish(mut self, metadata: Vec<(String, String)>) -> Result<u64> {
        let mut writer = self.writer.take().expect("finished once");
        writer.append_key_value_metadata(KeyValue::new(
            keys::EVENTS.to_owned(),
            self.rows.to_string(),
        ));
        for (key, value) in metadata {
            writer.append_key_value_metadata(KeyValue::new(key, value));
        }
        let file = writer.into_inner().map_err(|e| self.error(e))?;
        file.sync_all()
            .map_err(|e| RecordError::io(format!("writing {}", self.path.display()), e))?;
        drop(file);
        std::fs::rename(&self.partial, &self.path).map_err(|e| {
            RecordError::io(
                format!(
                    "renaming {} to {}",
                    self.partial.display(),
                    self.path.display()
                ),
                e,
            )
        })?;
        Ok(self.rows)
    }
}

impl Drop for Writer {
    /// A recording dropped unfinished (its error was reported) leaves no
    /// partial file behind.
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::schema::tests::sample;
    use crate::record::Reader;

    #[test]
    fn a_file_is_named_only_once_finished_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("systrace-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.parquet");
        let mut w = Writer::create(&path).unwrap();
        let events = sample();
        w.write(&events).unwrap();
        w.write(&events[..1]).unwrap();
        assert!(!path.exists() && dir.join(".t.parquet.partial").exists());
        let rows = w
            .finish(vec![(keys::DROPPED.to_owned(), "7".to_owned())])
            .unwrap();
        assert_eq!(rows, 4);
        assert!(!dir.join(".t.parquet.partial").exists());
        let reader = Reader::open(&path).unwrap();
        assert_eq!(reader.metadata(keys::DROPPED), Some("7"));
        assert_eq!(reader.metadata(keys::FORMAT), Some(FORMAT));
        assert_eq!(reader.rows(), 4);
        let back: Vec<Event> = reader
            .batches()
            .unwrap()
            .collect::<Result<Vec<_>>>()
            .unwrap()
            .concat();
        let mut expected = events.clone();
        expected.push(events[0].clone());
        assert_eq!(back, expected);
        // An unfinished recording leaves nothing.
        let w = Writer::create(&dir.join("u.parquet")).unwrap();
        drop(w);
        assert!(!dir.join(".u.parquet.partial").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

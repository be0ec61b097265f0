//! Reading a recording back: its metadata, and its rows as events, a batch
//! at a time (a recording larger than memory streams).
use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::schema::from_record_batch;
use super::{keys, RecordError, Result, FORMAT};
use crate::kernel::Event;

/// Rows per batch read.
pub const READ_BATCH: usize = 64 * 1024;

pub struct Reader {
    path: PathBuf,
    metadata: Vec<(String, String)>,
    rows: u64,
}

impl Reader {
    /// Opens a recording: a Parquet file whose metadata says it is one, of
    /// this machine's architecture (its `nr` are syscall numbers of the
    /// architecture it was recorded on).
    pub fn open(path: &Path) -> Result<Reader> {
        let shown = path.display().to_string();
        let not_one = |reason: String| RecordError::NotARecording {
            path: shown.clone(),
            reason,
        };
        let file =
            File::open(path).map_err(|e| RecordError::io(format!("can't open {shown}"), e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| not_one(format!("it is not a Parquet file ({e})")))?;
        let file_meta = builder.metadata().file_metadata();
        let metadata: Vec<(String, String)> = file_meta
            .key_value_metadata()
            .map(|kvs| {
                kvs.iter()
                    .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        let reader = Reader {
            path: path.to_owned(),
            metadata,
            rows: file_meta.num_rows().max(0) as u64,
        };
        match reader.metadata(keys::FORMAT) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(not_one(format!(
                    "its format is {other:?}, and this systrace ({}) reads {FORMAT:?}",
                    env!("CARGO_PKG_VERSION")
                )))
            }
            None => {
                return Err(not_one(format!(
                    "a Parquet file without the {:?} metadata that systrace writes",
                    keys::FORMAT
                )))
            }
        }
        let arch = reader
            .metadata(keys::ARCH)
            .unwrap_or("an unknown architecture");
        if arch != std::env::consts::ARCH {
            return Err(RecordError::ForeignArch {
                path: shown,
                arch: arch.to_owned(),
            });
        }
        Ok(reader)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of one key of the file's key-value metadata.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The file's key-value metadata, in the order written.
    pub fn all_metadata(&self) -> &[(String, String)] {
        &self.metadata
    }

    /// Rows (events) in the file.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The events, a batch of up to READ_BATCH at a time, in the order
    /// they were written. Each call reads the file again from the start.
    pub fn batches(&self) -> Result<impl Iterator<Item = Result<Vec<Event>>> + Send + 'static> {
        let shown = self.path.display().to_string();
        let file = File::open(&self.path)
            .map_err(|e| RecordError::io(format!("can't open {shown}"), e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(READ_BATCH).build())
            .map_err(|e| RecordError::parquet(format!("reading {shown}"), e))?;
        Ok(reader.map(move |batch| {
            let batch = batch.map_err(|e| RecordError::parquet(format!("reading {shown}"), e))?;
            from_record_batch(&batch).map_err(|reason| RecordError::NotARecording {
                path: shown.clone(),
                reason,
            })
        }))
    }
}

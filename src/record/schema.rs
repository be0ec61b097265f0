//! The columns of a recording, defined once: the Arrow schema, events into
//! an Arrow `RecordBatch` (from `text::columns::Columns`, the same columns
//! `EventBatch.columns()` and `systrace.to_arrow()` are made of), and a
//! `RecordBatch` back into events.
//!
//! | column | Arrow type | |
//! | --- | --- | --- |
//! | `timestamp_ns` | uint64 | CLOCK_MONOTONIC ns |
//! | `pid`, `tid` | uint32 | |
//! | `comm` | dictionary<int32, string> | |
//! | `cpu` | uint16 | |
//! | `nr` | uint32 | |
//! | `name` | dictionary<int32, string> | the syscall's name (a signal's: `SIGCHLD`; `exit` for a thread's end) |
//! | `phase` | dictionary<int8, string> | "enter", "exit", "signal" or "task_exit" |
//! | `ret` | int64 | null on enter (a signal's handler; a thread's exit code) |
//! | `nb_args` | uint8 | |
//! | `arg0`..`arg5` | uint64 | null past `nb_args` |
//! | `captured` | list<struct<arg, index, status, flags, bytes>> | null when nothing was captured |
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use arrow_array::{
    Array, ArrayRef, BinaryArray, DictionaryArray, Int32Array, Int8Array, ListArray,
    PrimitiveArray, RecordBatch, StringArray, StructArray, UInt16Array, UInt32Array, UInt64Array,
    UInt8Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};

use crate::kernel::decode::encode_captures;
use crate::kernel::layout::{systrace_capture_flags as flags, MAX_ARGS, TASK_COMM_LEN};
use crate::kernel::{Capture, Event, EventKind, Phase};
use crate::metadata::{arg_name, display_name, metadata};
use crate::text::columns::{Columns, ARG_COLUMNS};

/// The fields of one capture item (an element of `captured`).
fn item_fields() -> Fields {
    Fields::from(vec![
        // The argument's name ("filename", "buf", "argv"; "arg2" for a
        // syscall without metadata).
        Field::new("arg", DataType::Utf8, false),
        // Its index among the syscall's arguments.
        Field::new("index", DataType::UInt8, false),
        // "complete", "truncated" (cut at the capture size), "faulted" (not
        // readable) or "lost" (not captured).
        Field::new("status", DataType::Utf8, false),
        // The item's systrace_capture_flags (bpf/systrace.h): 1 truncated,
        // 2 faulted, 4 one element of an argv array, 8 read at exit, 16 lost.
        Field::new("flags", DataType::UInt8, false),
        Field::new("bytes", DataType::Binary, false),
    ])
}

fn item_list_field() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(item_fields()), false))
}

fn dictionary(key: DataType) -> DataType {
    DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8))
}

/// The schema of a recording.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut fields = vec![
                Field::new("timestamp_ns", DataType::UInt64, false),
                Field::new("pid", DataType::UInt32, false),
                Field::new("tid", DataType::UInt32, false),
                Field::new("comm", dictionary(DataType::Int32), false),
                Field::new("cpu", DataType::UInt16, false),
                Field::new("nr", DataType::UInt32, false),
                Field::new("name", dictionary(DataType::Int32), false),
                Field::new("phase", dictionary(DataType::Int8), false),
                Field::new("ret", DataType::Int64, true),
                Field::new("nb_args", DataType::UInt8, false),
            ];
            for name in ARG_COLUMNS {
                fields.push(Field::new(name, DataType::UInt64, true));
            }
            fields.push(Field::new(
                "captured",
                DataType::List(item_list_field()),
                true,
            ));
            Arc::new(Schema::new(fields))
        })
        .clone()
}

const fn bit(f: flags) -> u8 {
    f.0 as u8
}

/// A capture item's systrace_capture_flags, as the programs wrote them.
fn item_flags(cap: &Capture<'_>) -> u8 {
    let mut out = 0;
    for (set, f) in [
        (cap.truncated, flags::SYSTRACE_CAPTURE_TRUNCATED),
        (cap.faulted, flags::SYSTRACE_CAPTURE_FAULTED),
        (cap.argv_elem, flags::SYSTRACE_CAPTURE_ARGV_ELEM),
        (cap.at_exit, flags::SYSTRACE_CAPTURE_AT_EXIT),
        (cap.lost, flags::SYSTRACE_CAPTURE_LOST),
        (cap.netlink, flags::SYSTRACE_CAPTURE_NETLINK),
        (cap.ends, flags::SYSTRACE_CAPTURE_ENDS),
    ] {
        if set {
            out |= bit(f);
        }
    }
    out
}

/// The word of `capture_status` (lost, then faulted, then truncated win,
/// as in `Event.capture_status`).
fn item_status(cap: &Capture<'_>) -> &'static str {
    if cap.lost {
        "lost"
    } else if cap.faulted {
        "faulted"
    } else if cap.truncated {
        "truncated"
    } else {
        "complete"
    }
}

/// A dictionary column: each row's key into `values`, made once per
/// distinct value.
fn dictionary_array<K>(rows: impl Iterator<Item = K>, label: impl Fn(&K) -> String) -> ArrayRef
where
    K: std::hash::Hash + Eq + Clone,
{
    let mut index: HashMap<K, i32> = HashMap::new();
    let mut values: Vec<String> = Vec::new();
    let keys: Vec<i32> = rows
        .map(|k| {
            let next = values.len() as i32;
            *index.entry(k.clone()).or_insert_with(|| {
                values.push(label(&k));
                next
            })
        })
        .collect();
    let dict = DictionaryArray::<Int32Type>::try_new(
        Int32Array::from(keys),
        Arc::new(StringArray::from(values)),
    )
    .expect("every key indexes the values");
    Arc::new(dict)
}

/// `values` with nulls where `present` is false.
fn nullable<T: arrow_array::ArrowPrimitiveType>(
    values: Vec<T::Native>,
    present: Vec<bool>,
) -> ArrayRef {
    let nulls = NullBuffer::from(present);
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    Arc::new(PrimitiveArray::<T>::new(values.into(), nulls))
}

/// The `captured` column: each event's capture items, null when it has none.
fn captured_column(events: &[Event]) -> ArrayRef {
    let mut offsets: Vec<i32> = Vec::with_capacity(events.len() + 1);
    offsets.push(0);
    let mut present = Vec::with_capacity(events.len());
    let (mut arg, mut index, mut status, mut item_flags_col, mut bytes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ev in events {
        if ev.data.is_some() {
            let meta = metadata().syscall_nr_to_meta(ev.nr);
            for cap in ev.captures() {
                arg.push(arg_name(meta, cap.arg as usize).into_owned());
                index.push(cap.arg);
                status.push(item_status(&cap));
                item_flags_col.push(item_flags(&cap));
                bytes.push(cap.bytes);
            }
        }
        present.push(ev.data.is_some());
        offsets.push(arg.len() as i32);
    }
    let items = StructArray::try_new(
        item_fields(),
        vec![
            Arc::new(StringArray::from(arg)) as ArrayRef,
            Arc::new(UInt8Array::from(index)),
            Arc::new(StringArray::from(status)),
            Arc::new(UInt8Array::from(item_flags_col)),
            Arc::new(BinaryArray::from_vec(bytes)),
        ],
        None,
    )
    .expect("the item columns have one length");
    let nulls = NullBuffer::from(present);
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    Arc::new(
        ListArray::try_new(
            item_list_field(),
            OffsetBuffer::new(offsets.into()),
            Arc::new(items),
            nulls,
        )
        .expect("offsets are monotonic and end at the items' length"),
    )
}

/// One row of `Columns.comm`: TASK_COMM_LEN bytes, NUL-padded.
fn comm_key(raw: &[u8]) -> [u8; TASK_COMM_LEN] {
    let mut key = [0u8; TASK_COMM_LEN];
    key.copy_from_slice(raw);
    key
}

fn comm_label(key: &[u8; TASK_COMM_LEN]) -> String {
    let end = key.iter().position(|&b| b == 0).unwrap_or(key.len());
    String::from_utf8_lossy(&key[..end]).into_owned()
}

/// The `name` column's: the syscall's, the signal's, or "exit" for a
/// thread's end.
fn event_name(kind: EventKind, nr: u32) -> String {
    match kind {
        EventKind::Syscall => display_name(nr).into_owned(),
        EventKind::Signal => crate::strace::signals::signal_name(nr as i32),
        EventKind::TaskExit => "exit".to_owned(),
    }
}

/// Events as one Arrow record batch of [`schema`].
pub fn to_record_batch(events: &[Event]) -> RecordBatch {
    let c = Columns::from_events(events);
    let n = events.len();
    // ret is null on enter: only exits (and task events) carry one.
    let exit: Vec<bool> = c.phase.iter().map(|&p| p != Phase::Enter.raw()).collect();
    let phase_keys: Vec<i8> = events
        .iter()
        .map(|ev| match ev.kind {
            EventKind::Syscall => i8::from(ev.phase == Phase::Exit),
            EventKind::Signal => 2,
            EventKind::TaskExit => 3,
        })
        .collect();
    let phase = DictionaryArray::<Int8Type>::try_new(
        Int8Array::from(phase_keys),
        Arc::new(StringArray::from(vec![
            Phase::Enter.name(),
            Phase::Exit.name(),
            EventKind::Signal.name(),
            EventKind::TaskExit.name(),
        ])),
    )
    .expect("phase keys are 0 to 3");
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(c.timestamp_ns)),
        Arc::new(UInt32Array::from(c.pid)),
        Arc::new(UInt32Array::from(c.tid)),
        dictionary_array(c.comm.chunks_exact(TASK_COMM_LEN).map(comm_key), comm_label),
        Arc::new(UInt16Array::from(c.cpu)),
        Arc::new(UInt32Array::from(c.nr.clone())),
        dictionary_array(events.iter().map(|ev| (ev.kind, ev.nr)), |&(kind, nr)| {
            event_name(kind, nr)
        }),
        Arc::new(phase),
        nullable::<arrow_array::types::Int64Type>(c.ret, exit),
        Arc::new(UInt8Array::from(c.nb_args.clone())),
    ];
    for (i, values) in c.args.into_iter().enumerate() {
        let present = c.nb_args.iter().map(|&nb| (nb as usize) > i).collect();
        columns.push(nullable::<UInt64Type>(values, present));
    }
    columns.push(captured_column(events));
    debug_assert!(columns.iter().all(|col| col.len() == n));
    RecordBatch::try_new(schema(), columns).expect("the columns follow the schema")
}

/// A column of a batch read back, or why the file does not have it as a
/// recording does.
fn column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b ArrayRef, String> {
    batch
        .column_by_name(name)
        .ok_or_else(|| format!("it has no column {name:?}"))
}

fn primitive<'b, T: arrow_array::ArrowPrimitiveType>(
    batch: &'b RecordBatch,
    name: &str,
) -> Result<&'b PrimitiveArray<T>, String> {
    let col = column(batch, name)?;
    col.as_primitive_opt::<T>().ok_or_else(|| {
        format!(
            "its column {name:?} is {}, not {}",
            col.data_type(),
            T::DATA_TYPE
        )
    })
}

/// A string column's value at a row (None where null).
type StringAt<'b> = Box<dyn Fn(usize) -> Option<&'b str> + 'b>;

/// A string column, dictionary-encoded (as written) or plain (as another
/// tool may have rewritten it).
fn strings<'b>(batch: &'b RecordBatch, name: &str) -> Result<StringAt<'b>, String> {
    let col = column(batch, name)?;
    let wrong = || format!("its column {name:?} is {}, not strings", col.data_type());
    if let Some(s) = col.as_string_opt::<i32>() {
        return Ok(Box::new(move |i| s.is_valid(i).then(|| s.value(i))));
    }
    macro_rules! dict {
        ($key:ty) => {
            if let Some(d) = col.as_dictionary_opt::<$key>() {
                let values = d.values().as_string_opt::<i32>().ok_or_else(wrong)?;
                let keys = d.keys();
                return Ok(Box::new(move |i| {
                    keys.is_valid(i)
                        .then(|| values.value(keys.value(i) as usize))
                }));
            }
        };
    }
    dict!(Int32Type);
    dict!(Int8Type);
    dict!(arrow_array::types::Int16Type);
    dict!(arrow_array::types::UInt32Type);
    Err(wrong())
}

/// The events of a record batch read from a recording.
pub fn from_record_batch(batch: &RecordBatch) -> Result<Vec<Event>, String> {
    let timestamp = primitive::<UInt64Type>(batch, "timestamp_ns")?;
    let pid = primitive::<UInt32Type>(batch, "pid")?;
    let tid = primitive::<UInt32Type>(batch, "tid")?;
    let cpu = primitive::<UInt16Type>(batch, "cpu")?;
    let nr = primitive::<UInt32Type>(batch, "nr")?;
    let ret = primitive::<arrow_array::types::Int64Type>(batch, "ret")?;
    let nb_args = primitive::<UInt8Type>(batch, "nb_args")?;
    let args: Vec<&UInt64Array> = ARG_COLUMNS
        .iter()
        .map(|name| primitive::<UInt64Type>(batch, name))
        .collect::<Result<_, _>>()?;
    let comm = strings(batch, "comm")?;
    let phase = strings(batch, "phase")?;
    let captured = column(batch, "captured")?;
    let captured = captured
        .as_list_opt::<i32>()
        .ok_or_else(|| format!("its column \"captured\" is {}", captured.data_type()))?;
    let items = captured
        .values()
        .as_struct_opt()
        .ok_or_else(|| "its column \"captured\" holds no structs".to_owned())?;
    let item_col = |name: &str| {
        items
            .column_by_name(name)
            .ok_or_else(|| format!("its \"captured\" items have no field {name:?}"))
    };
    let item_index = item_col("index")?
        .as_primitive_opt::<UInt8Type>()
        .ok_or("its \"captured\" items' index is not uint8")?;
    let item_flags = item_col("flags")?
        .as_primitive_opt::<UInt8Type>()
        .ok_or("its \"captured\" items' flags are not uint8")?;
    let item_bytes = item_col("bytes")?
        .as_binary_opt::<i32>()
        .ok_or("its \"captured\" items' bytes are not binary")?;
    let mut events = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let (kind, phase) = match phase(row).and_then(EventKind::parse_phase) {
            Some(p) => p,
            None => {
                return Err(format!(
                    "row {row} has no phase \"enter\", \"exit\", \"signal\" or \"task_exit\""
                ))
            }
        };
        let nb = nb_args.value(row);
        if nb as usize > MAX_ARGS {
            return Err(format!("row {row} has nb_args {nb}"));
        }
        let mut raw = [0u64; MAX_ARGS];
        for (i, slot) in raw.iter_mut().enumerate().take(nb as usize) {
            *slot = args[i].value(row);
        }
        let mut comm_bytes = [0u8; TASK_COMM_LEN];
        let name = comm(row).unwrap_or("").as_bytes();
        let cut = name.len().min(TASK_COMM_LEN - 1);
        comm_bytes[..cut].copy_from_slice(&name[..cut]);
        let data = if captured.is_valid(row) {
            let range =
                captured.value_offsets()[row] as usize..captured.value_offsets()[row + 1] as usize;
            let list: Vec<(u8, u8, Vec<u8>)> = range
                .map(|i| {
                    (
                        item_index.value(i),
                        item_flags.value(i),
                        item_bytes.value(i).to_vec(),
                    )
                })
                .collect();
            if list.iter().any(|(arg, _, _)| *arg as usize >= MAX_ARGS) {
                return Err(format!(
                    "row {row} has a capture of argument {MAX_ARGS} or more"
                ));
            }
            Some(Arc::from(encode_captures(&list)))
        } else {
            None
        };
        let pid = pid.value(row);
        events.push(Event {
            kind,
            timestamp_ns: timestamp.value(row),
            pid,
            root: pid,
            tid: tid.value(row),
            nr: nr.value(row),
            cpu: cpu.value(row),
            phase,
            nb_args: nb,
            args: raw,
            ret: if (phase == Phase::Exit || kind != EventKind::Syscall) && ret.is_valid(row) {
                ret.value(row)
            } else {
                0
            },
            comm: comm_bytes,
            data,
        });
    }
    Ok(events)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernel::decode::decode;
    use crate::kernel::decode::tests::{enter_record, exit_record};

    pub(crate) fn sample() -> Vec<Event> {
        let mut open = decode(&enter_record(257, &[u64::MAX - 99, 0x1000, 0], 10, 11)).unwrap();
        open.data = Some(Arc::from(encode_captures(&[(
            1,
            bit(flags::SYSTRACE_CAPTURE_TRUNCATED),
            b"/etc/hostn".to_vec(),
        )])));
        let mut exit = decode(&exit_record(257, -2, 10, 11)).unwrap();
        exit.comm[..4].copy_from_slice(b"cat\0");
        vec![
            open,
            exit,
            decode(&enter_record(0, &[3, 4, 5], 10, 12)).unwrap(),
        ]
    }

    #[test]
    fn events_round_trip_through_a_record_batch() {
        let events = sample();
        let batch = to_record_batch(&events);
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(batch.schema(), schema());
        let ret = batch.column_by_name("ret").unwrap();
        assert_eq!((ret.null_count(), ret.is_valid(1)), (2, true));
        assert_eq!(batch.column_by_name("arg2").unwrap().null_count(), 1);
        assert_eq!(batch.column_by_name("captured").unwrap().null_count(), 2);
        assert_eq!(from_record_batch(&batch).unwrap(), events);
    }

    #[test]
    fn a_batch_of_other_columns_is_refused_with_the_reason() {
        let batch = to_record_batch(&sample());
        let without_pid = batch.project(&[0, 2]).unwrap();
        assert_eq!(
            from_record_batch(&without_pid).unwrap_err(),
            "it has no column \"pid\""
        );
    }
}

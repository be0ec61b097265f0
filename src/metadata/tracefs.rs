//! Reading the running kernel's syscall events from tracefs
//! (`events/syscalls/sys_{enter,exit}_*/format`).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::SyscallMetadata;

/// What a `format` file tells us about a syscall event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ParsedFormat {
    pub name: String,
    pub id: u32,
    /// Event fields after the common ones: (C type, name), `__syscall_nr` first.
    pub fields: Vec<(String, String)>,
}

/// Parse one format file; `None` if it does not look like one.
pub(super) fn parse_format(text: &str) -> Option<ParsedFormat> {
    let mut lines = text.lines();
    let name = lines.next()?.strip_prefix("name: ")?.to_owned();
    let id = lines.next()?.strip_prefix("ID: ")?.trim().parse().ok()?;
    if lines.next()? != "format:" {
        return None;
    }
    let mut fields = Vec::new();
    for line in lines {
        let Some(rest) = line.trim_start().strip_prefix("field:") else {
            continue; // blank separator, print fmt
        };
        // "TYPE NAME;\toffset:..": the declaration ends at the first ';'.
        let (decl, _) = rest.split_once(';')?;
        let (ty, field) = decl.rsplit_once(' ')?;
        if !field.starts_with("common_") {
            fields.push((ty.trim_end().to_owned(), field.to_owned()));
        }
    }
    Some(ParsedFormat { name, id, fields })
}

/// Syscall records read from tracefs, with `syscall_nr` still unknown (0).
pub(super) struct Events {
    pub metas: Vec<SyscallMetadata>,
    /// Event names whose format file could not be read or parsed.
    pub unparsed: Vec<String>,
}

#[derive(Default)]
struct Pair {
    enter: Option<ParsedFormat>,
    exit_id: Option<u32>,
}

/// Read every `sys_enter_*`/`sys_exit_*` event under `syscalls_dir`.
pub(super) fn read_events(syscalls_dir: &Path) -> std::io::Result<Events> {
    let mut names: Vec<String> = fs::read_dir(syscalls_dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();

    let mut pairs: BTreeMap<String, Pair> = BTreeMap::new();
    let mut unparsed = Vec::new();
    for event in names {
        let (short, enter) = if let Some(s) = event.strip_prefix("sys_enter_") {
            (s.to_owned(), true)
        } else if let Some(s) = event.strip_prefix("sys_exit_") {
            (s.to_owned(), false)
        } else {
            continue; // "enable", "filter"
        };
        let parsed = fs::read_to_string(syscalls_dir.join(&event).join("format"))
            .ok()
            .and_then(|text| parse_format(&text))
            .filter(|p| p.name == event && valid_fields(&p.fields, enter));
        let Some(parsed) = parsed else {
            unparsed.push(event);
            continue;
        };
        let pair = pairs.entry(short).or_default();
        if enter {
            pair.enter = Some(parsed);
        } else {
            pair.exit_id = Some(parsed.id);
        }
    }

    let mut metas = Vec::with_capacity(pairs.len());
    for (short, pair) in pairs {
        let Some(enter) = pair.enter else {
            // Exit without a usable enter: no argument list to offer. The
            // enter event, if present, is already counted in `unparsed`.
            if !unparsed.contains(&format!("sys_enter_{short}")) {
                unparsed.push(format!("sys_enter_{short}"));
            }
            continue;
        };
        let (types, args) = enter.fields.into_iter().skip(1).unzip();
        metas.push(SyscallMetadata {
            name: format!("sys_{short}"),
            syscall_nr: 0,
            types,
            args,
            enter_id: Some(enter.id),
            exit_id: pair.exit_id,
        });
    }
    Ok(Events { metas, unparsed })
}

/// Enter: `__syscall_nr` then up to 6 arguments; exit: `__syscall_nr`, `ret`.
fn valid_fields(fields: &[(String, String)], enter: bool) -> bool {
    let names: Vec<&str> = fields.iter().map(|(_, n)| n.as_str()).collect();
    if enter {
        names.first() == Some(&"__syscall_nr") && names.len() <= 7
    } else {
        names == ["__syscall_nr", "ret"]
    }
}

#[cfg(test)]
mod tests {
    use super::super::event_class::{format, Phase};
    use super::super::{MetadataSource, MetadataTable};
    use super::*;

    #[test]
    fn parse_sample() {
        let text = "name: sys_enter_openat\nID: 782\nformat:\n\
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
            \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
            \tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
            \tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n\
            \tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n\n\
            print fmt: \"\"\n";
        let p = parse_format(text).unwrap();
        assert_eq!(p.name, "sys_enter_openat");
        assert_eq!(p.id, 782);
        let want: Vec<(String, String)> = [
            ("int", "__syscall_nr"),
            ("int", "dfd"),
            ("const char *", "filename"),
        ]
        .iter()
        .map(|(t, n)| (t.to_string(), n.to_string()))
        .collect();
        assert_eq!(p.fields, want);
    }

    #[test]
    fn parse_garbage() {
        for text in [
            "",
            "name: x\n",
            "name: x\nID: y\nformat:\n",
            "ID: 1\nname: x\nformat:\n",
        ] {
            assert!(parse_format(text).is_none(), "{text:?}");
        }
        let bad_field = "name: x\nID: 1\nformat:\n\tfield:nospace;\toffset:0;\n";
        assert!(parse_format(bad_field).is_none());
    }

    /// A fake tracing dir: parsed, unparsable and unmapped events.
    #[test]
    fn fake_tracefs() {
        let root =
            std::env::temp_dir().join(format!("systrace-fake-tracefs-{}", std::process::id()));
        let dir = root.join("events/syscalls");
        let write = |event: &str, text: &str| {
            fs::create_dir_all(dir.join(event)).unwrap();
            fs::write(dir.join(event).join("format"), text).unwrap();
        };
        let m = SyscallMetadata {
            name: "sys_read".into(),
            syscall_nr: 0,
            types: vec!["unsigned int".into(), "char *".into(), "size_t".into()],
            args: vec!["fd".into(), "buf".into(), "count".into()],
            enter_id: Some(11),
            exit_id: Some(10),
        };
        write("sys_enter_read", &format(&m, Phase::Enter, None));
        write("sys_exit_read", &format(&m, Phase::Exit, None));
        let new = SyscallMetadata {
            name: "sys_brand_new".into(),
            ..m.clone()
        };
        write("sys_enter_brand_new", &format(&new, Phase::Enter, None));
        write("sys_exit_brand_new", &format(&new, Phase::Exit, None));
        write("sys_enter_write", "garbage");
        write("sys_exit_write", &format(&m, Phase::Exit, None)); // wrong name: line
        fs::write(dir.join("enable"), "0\n").unwrap();

        let t = MetadataTable::from_tracefs(&root);
        fs::remove_dir_all(&root).unwrap();
        let t = t.unwrap();
        assert_eq!(t.source(), &MetadataSource::Tracefs(root.clone()));
        assert_eq!(t.unmapped(), ["sys_brand_new"]);
        assert_eq!(t.unparsed(), ["sys_enter_write", "sys_exit_write"]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.by_name("sys_enter_read"), Some(&m));
        #[cfg(target_arch = "x86_64")]
        assert_eq!(t.syscall_nr_to_meta(0), Some(&m));
    }

    #[test]
    fn missing_dir_is_an_error() {
        assert!(MetadataTable::from_tracefs(Path::new("/nonexistent/tracing")).is_err());
    }

    /// Development check against this machine's kernel: every syscall format
    /// file must equal what event_class::format() writes, byte for byte.
    #[test]
    fn every_tracefs_format_matches() {
        let tracing = Path::new("/sys/kernel/tracing");
        let dir = tracing.join("events/syscalls");
        let Ok(entries) = fs::read_dir(&dir) else {
            // A regression must fail, not skip, where the kernel is required.
            assert!(
                std::env::var("SYSTRACE_REQUIRE_KERNEL").as_deref() != Ok("1"),
                "SYSTRACE_REQUIRE_KERNEL=1 but {} is not readable",
                dir.display()
            );
            eprintln!("skipped: {} not readable", dir.display());
            return;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("sys_enter_") || n.starts_with("sys_exit_"))
            .collect();
        names.sort();

        let table = MetadataTable::from_tracefs(tracing).unwrap();
        assert_eq!(
            table.source(),
            &MetadataSource::Tracefs(tracing.to_path_buf())
        );
        assert!(table.unparsed().is_empty(), "{:?}", table.unparsed());
        let embedded = MetadataTable::embedded();

        let (mut checked, mut from_embedded) = (0, 0);
        let mut mismatches = Vec::new();
        for event in &names {
            let text = fs::read_to_string(dir.join(event).join("format")).unwrap();
            let phase = if event.starts_with("sys_enter_") {
                Phase::Enter
            } else {
                Phase::Exit
            };
            let short = event
                .strip_prefix("sys_enter_")
                .or_else(|| event.strip_prefix("sys_exit_"))
                .unwrap();
            // Every event, mapped to a number or not.
            let meta = match table.by_name(event) {
                Some(m) => m.clone(),
                None => {
                    assert!(
                        table.unmapped().contains(&format!("sys_{short}")),
                        "{event}"
                    );
                    let enter_format = dir.join(format!("sys_enter_{short}/format"));
                    let enter = parse_format(&fs::read_to_string(enter_format).unwrap()).unwrap();
                    let (types, args) = enter.fields.into_iter().skip(1).unzip();
                    SyscallMetadata {
                        name: format!("sys_{short}"),
                        syscall_nr: 0,
                        types,
                        args,
                        enter_id: None,
                        exit_id: None,
                    }
                }
            };
            let id = parse_format(&text).unwrap().id;
            if format(&meta, phase, Some(id)) != text {
                mismatches.push(event.clone());
            }
            checked += 1;
            // The embedded table (generated from the pinned source) must
            // produce the same text for every syscall it shares.
            if let Some(m) = embedded.by_name(event) {
                if format(m, phase, Some(id)) != text {
                    mismatches.push(format!("{event} (embedded)"));
                }
                from_embedded += 1;
            }
        }
        eprintln!(
            "tracefs: {checked} format files match byte for byte; {from_embedded} also from the \
             embedded table; {} syscalls mapped, unmapped: {:?}",
            table.len(),
            table.unmapped()
        );
        assert!(checked > 0);
        assert!(mismatches.is_empty(), "{mismatches:?}");
        for m in table.iter() {
            assert!(m.enter_id.is_some() && m.exit_id.is_some(), "{}", m.name);
            assert_eq!(table.syscall_nr_to_meta(m.syscall_nr), Some(m));
        }
    }
}

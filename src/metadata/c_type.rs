//! What a syscall argument's C type (from its metadata) says of its value.

/// An argument's value as its C type reads it: the register truncated to
/// the type's width and sign-extended where the type is signed, so that an
/// `int dfd` of AT_FDCWD reads -100 and not 4294967196. Pointers and types
/// we do not know stay the raw unsigned register.
pub fn typed_arg(c_type: Option<&str>, raw: u64) -> i128 {
    match arg_width(c_type) {
        (64, false) => raw as i128,
        (64, true) => raw as i64 as i128,
        (32, false) => raw as u32 as i128,
        (32, true) => raw as u32 as i32 as i128,
        (_, false) => raw as u16 as i128,
        (_, true) => raw as u16 as i16 as i128,
    }
}

/// The bits an argument's C type reads of its register, and whether it is
/// signed: (64, false) for pointers and types we do not know.
pub fn arg_width(c_type: Option<&str>) -> (u8, bool) {
    let Some(ty) = c_type else { return (64, false) };
    if ty.contains('*') {
        return (64, false);
    }
    let ty = ty.trim_start_matches("const ").trim();
    match ty {
        "int" | "pid_t" | "clockid_t" | "timer_t" | "key_serial_t" | "mqd_t" | "rwf_t"
        | "key_t" | "__s32" | "s32" => (32, true),
        "unsigned int" | "unsigned" | "uid_t" | "gid_t" | "old_uid_t" | "old_gid_t" | "qid_t"
        | "u32" | "__u32" | "mode_t" => (32, false),
        "umode_t" | "unsigned short" | "u16" | "__u16" => (16, false),
        "short" => (16, true),
        "long"
        | "loff_t"
        | "off_t"
        | "ssize_t"
        | "time_t"
        | "__kernel_old_time_t"
        | "s64"
        | "__s64"
        | "long long"
        | "__kernel_off_t" => (64, true),
        _ => (64, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_read_as_their_c_type() {
        assert_eq!(typed_arg(Some("int"), (-100i64) as u64), -100);
        assert_eq!(typed_arg(Some("unsigned int"), u64::MAX), u32::MAX as i128);
        assert_eq!(typed_arg(Some("char *"), u64::MAX), u64::MAX as i128);
        assert_eq!(typed_arg(Some("loff_t"), (-1i64) as u64), -1);
        assert_eq!(typed_arg(None, 7), 7);
    }
}

//! The YAML loaders: any bytes give a value or a clear error, within the
//! time and memory limits `cargo xtask fuzz` sets (alias bombs, deep nesting
//! and huge scalars must fail fast), and whatever loads writes back and
//! loads again to the same value.

#![no_main]

use std::path::Path;

use keystack_stack::{Component, Stack, StackExport, yaml};

fn round_trip<T>(text: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let file = Path::new("fuzz.yaml");
    if let Ok(value) = yaml::parse::<T>(text, file) {
        let written = yaml::to_string(&value);
        let again: T = yaml::parse(&written, file).expect("what Keystack writes, it reads");
        assert_eq!(again, value);
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip::<Stack>(text);
    round_trip::<Component>(text);
    round_trip::<StackExport>(text);
});

//! The command line's `--KEY=VALUE` parsing: total on any arguments, keys
//! unique and non-empty, values as given, and no error shaped by a value.

#![no_main]

use keystack_cli::pairs::parse_pairs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // NUL separates arguments (no argument can hold one).
    let args: Vec<String> = text.split('\0').map(str::to_owned).collect();
    match parse_pairs(&args) {
        Ok(pairs) => {
            let mut keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            assert!(keys.iter().all(|k| !k.is_empty()));
            keys.sort_unstable();
            let before = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), before, "a key was accepted twice");
            for (key, value) in &pairs {
                let joined = format!("--{key}={}", value.as_str());
                let split = args
                    .windows(2)
                    .any(|w| w[0] == format!("--{key}") && w[1] == value.as_str());
                assert!(
                    args.contains(&joined) || split,
                    "value of --{key} is not as given"
                );
            }
        }
        Err(e) => {
            // Non-interference: the values of --KEY=VALUE arguments never
            // shape an error; with every one of them replaced, the message
            // is the same. (A value may still look like part of a message.)
            let redacted: Vec<String> = args
                .iter()
                .map(
                    |arg| match arg.strip_prefix("--").and_then(|b| b.split_once('=')) {
                        Some((key, _)) => format!("--{key}=<redacted>"),
                        None => arg.clone(),
                    },
                )
                .collect();
            let again = parse_pairs(&redacted).expect_err("the same arguments fail the same way");
            assert_eq!(e.to_string(), again.to_string(), "a value shaped an error");
        }
    }
});

//! The payloads a remote backend reads back from a service it does not
//! control: Keystack's JSON of key-values and ZenML's layout (with
//! `zenml_schema_name`). Total on any bytes, no error shaped by a value
//! (the same error with every value replaced), and what is written reads
//! back the same.

#![no_main]

use keystack_secrets_core::remote::payload::{from_json, to_json};
use keystack_secrets_core::remote::zenml::{from_payload, to_payload};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(values) = from_json(data) {
        let again = from_json(to_json(&values).as_bytes()).expect("what is written reads back");
        assert_eq!(again, values);
    }
    match from_payload(data) {
        Ok((schema, values)) => {
            let written = to_payload(schema, &values);
            let (schema2, values2) = from_payload(written.as_bytes()).expect("reads back");
            assert_eq!((schema2, values2), (schema, values));
        }
        Err(e) => {
            // No error is shaped by a value: with every value but the
            // schema's replaced, the error is the same.
            if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice(data) {
                for (key, value) in map.iter_mut() {
                    if key != "zenml_schema_name" && value.is_string() {
                        *value = serde_json::Value::String("V".to_owned());
                    }
                }
                let other = serde_json::to_vec(&map).expect("a map serializes");
                let again = from_payload(&other).expect_err("values do not make an error");
                assert_eq!(
                    again.to_string(),
                    e.to_string(),
                    "an error shaped by a value"
                );
            }
        }
    }
});

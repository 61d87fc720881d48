//! The `{{name.key}}` reference parser: total on any text, positions in
//! bounds, and `parse ∘ to_source` the identity on what it accepts.

#![no_main]

use keystack_secrets_core::reference::{Segment, Template, escape};

/// The segments without their source positions.
fn meaning(template: &Template<'_>) -> Vec<String> {
    template
        .segments()
        .iter()
        .map(|s| match s {
            Segment::Text(text) => format!("text {text}"),
            Segment::Reference { reference, .. } => format!("ref {reference:?}"),
        })
        .collect()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Template::parse(text) {
        Ok(template) => {
            for segment in template.segments() {
                if let Segment::Reference { span, .. } = segment {
                    assert!(text[span.clone()].starts_with("{{"));
                    assert!(text[span.clone()].ends_with("}}"));
                }
            }
            let source = template.to_source();
            let again = Template::parse(&source).expect("rendered source parses");
            // Spans differ where the source had spaces inside the braces.
            assert_eq!(
                meaning(&again),
                meaning(&template),
                "parse ∘ to_source ≠ id"
            );
        }
        Err(e) => {
            assert!(e.offset() < text.len());
            assert!(text.is_char_boundary(e.offset()));
        }
    }
    // Any text, escaped, is a literal that reads back as itself.
    let escaped = escape(text);
    let literal = Template::parse(&escaped).expect("escaped text parses");
    assert_eq!(literal.as_literal().as_deref(), Some(text));
});

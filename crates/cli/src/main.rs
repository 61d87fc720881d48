//! keystack.
fn main() {}

//! End-to-end tests of the keystack binary.

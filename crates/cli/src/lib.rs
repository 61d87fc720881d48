//! Parts of the `keystack` command line kept in a library target, so that
//! tools other than the binary (the fuzz targets in `fuzz/`) can call them.
//! Not a public API: the binary is the interface.

pub mod dotenv;
pub mod pairs;
pub mod zenml;

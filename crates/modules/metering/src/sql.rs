//! The platform's raw-SQL helpers under the module's own `sql::` path.

pub use qcity_platform::store::sql::*;

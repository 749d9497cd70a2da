//! qcity-index engine (pure library).

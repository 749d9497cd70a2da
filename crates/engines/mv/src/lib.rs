//! qcity-mv engine (pure library).

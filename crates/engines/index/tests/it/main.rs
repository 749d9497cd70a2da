//! Integration tests of qcity-index, compiled into one test binary (one link per crate).

mod asem;
mod methods;
mod pipeline;
mod props;

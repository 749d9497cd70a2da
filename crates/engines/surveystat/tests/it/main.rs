//! Integration tests of qcity-surveystat, compiled into one test binary (one link per crate).

mod common;
mod design_api;
mod design_nhanes2;
mod pls_bootstrap;
mod pls_mobi;
mod pls_mode_b;
mod pls_seminr;
mod weighting_props;

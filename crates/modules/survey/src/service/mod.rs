//! The survey's changes (问卷、测评批次、答卷): each one takes the person who makes it, makes the
//! change through the store and writes its audit entry (`survey.entity.verb`) in one
//! transaction. The JSON API, the staff pages and the questionnaire builder call these; they
//! only parse their input, check the caller's permission and render the result.

mod questionnaires;
mod responses;
mod waves;

pub use questionnaires::*;
pub use responses::*;
pub use waves::*;

use qcity_platform::audit::record_by as record;
use serde_json::Value;

/// A value as it goes into the audit log.
fn json_of(v: &impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

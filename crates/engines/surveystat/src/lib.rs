//! qcity-surveystat engine (pure library).

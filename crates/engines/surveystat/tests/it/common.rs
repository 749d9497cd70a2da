//! Shared test fixtures: the ECSI model of Tenenhaus et al. (2005) on the mobi data.

use qcity_surveystat::{ItemData, PlsModel, Table};

/// The ECSI mobile-phone model (seminr `demo/seminr-pls-ecsi.R`; semPLS `ECSImobi`).
pub const ECSI: &str = r#"
[constructs.Image]
items = ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"]
mode = "A"
scale = [1, 10]
[constructs.Expectation]
items = ["CUEX1", "CUEX2", "CUEX3"]
mode = "A"
scale = [1, 10]
[constructs.Quality]
items = ["PERQ1", "PERQ2", "PERQ3", "PERQ4", "PERQ5", "PERQ6", "PERQ7"]
mode = "A"
scale = [1, 10]
[constructs.Value]
items = ["PERV1", "PERV2"]
mode = "A"
scale = [1, 10]
[constructs.Satisfaction]
items = ["CUSA1", "CUSA2", "CUSA3"]
mode = "A"
scale = [1, 10]
[constructs.Complaints]
items = ["CUSCO"]
mode = "A"
scale = [1, 10]
[constructs.Loyalty]
items = ["CUSL1", "CUSL2", "CUSL3"]
mode = "A"
scale = [1, 10]

[[paths]]
from = "Image"
to = ["Expectation", "Satisfaction", "Loyalty"]
[[paths]]
from = "Expectation"
to = ["Quality", "Value", "Satisfaction"]
[[paths]]
from = "Quality"
to = ["Value", "Satisfaction"]
[[paths]]
from = "Value"
to = ["Satisfaction"]
[[paths]]
from = "Satisfaction"
to = ["Complaints", "Loyalty"]
[[paths]]
from = "Complaints"
to = ["Loyalty"]
"#;

/// The model and the mobi data.
pub fn ecsi_mobi() -> (PlsModel, ItemData) {
    let model = PlsModel::from_toml("ecsi.toml", ECSI).unwrap();
    let table = Table::parse("mobi.csv", include_str!("../data/mobi.csv")).unwrap();
    let data = ItemData::from_table(&table, &model).unwrap();
    (model, data)
}

//! Validated domain types parsed at the edge: categories, the 18-character 设备代码, the rescue
//! identification code, equipment status, IoT alarm codes.

use serde::{Deserialize, Serialize};

/// The eight special-equipment categories (特种设备目录 category codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Category {
    /// 1000 锅炉
    #[serde(rename = "1000")]
    Boiler,
    /// 2000 压力容器 (2100 fixed, 2200 mobile, 2300 cylinders)
    #[serde(rename = "2000")]
    PressureVessel,
    /// 3000 电梯
    #[serde(rename = "3000")]
    Elevator,
    /// 4000 起重机械
    #[serde(rename = "4000")]
    Crane,
    /// 5000 场(厂)内专用机动车辆
    #[serde(rename = "5000")]
    InPlantVehicle,
    /// 6000 大型游乐设施
    #[serde(rename = "6000")]
    Amusement,
    /// 8000 压力管道
    #[serde(rename = "8000")]
    Pipeline,
    /// 9000 客运索道
    #[serde(rename = "9000")]
    Ropeway,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Boiler,
        Category::PressureVessel,
        Category::Elevator,
        Category::Crane,
        Category::InPlantVehicle,
        Category::Amusement,
        Category::Pipeline,
        Category::Ropeway,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Category::Boiler => "1000",
            Category::PressureVessel => "2000",
            Category::Elevator => "3000",
            Category::Crane => "4000",
            Category::InPlantVehicle => "5000",
            Category::Amusement => "6000",
            Category::Pipeline => "8000",
            Category::Ropeway => "9000",
        }
    }
    pub fn parse(s: &str) -> Option<Category> {
        let s = s.trim();
        Category::ALL
            .into_iter()
            .find(|c| c.code() == s || c.slug() == s)
    }
    /// Category of a 4-character variety code (its first digit).
    pub fn of_variety(v: &str) -> Option<Category> {
        let first = v.chars().next()?;
        Category::ALL
            .into_iter()
            .find(|c| c.code().starts_with(first))
    }
    pub fn slug(self) -> &'static str {
        match self {
            Category::Boiler => "boiler",
            Category::PressureVessel => "pressure_vessel",
            Category::Elevator => "elevator",
            Category::Crane => "crane",
            Category::InPlantVehicle => "in_plant_vehicle",
            Category::Amusement => "amusement",
            Category::Pipeline => "pipeline",
            Category::Ropeway => "ropeway",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Category::Boiler => "锅炉",
            Category::PressureVessel => "压力容器",
            Category::Elevator => "电梯",
            Category::Crane => "起重机械",
            Category::InPlantVehicle => "场(厂)内专用机动车辆",
            Category::Amusement => "大型游乐设施",
            Category::Pipeline => "压力管道",
            Category::Ropeway => "客运索道",
        }
    }
    pub fn name_en(self) -> &'static str {
        match self {
            Category::Boiler => "Boiler",
            Category::PressureVessel => "Pressure vessel",
            Category::Elevator => "Elevator",
            Category::Crane => "Lifting appliance",
            Category::InPlantVehicle => "In-plant motor vehicle",
            Category::Amusement => "Large amusement facility",
            Category::Pipeline => "Pressure pipeline",
            Category::Ropeway => "Passenger ropeway",
        }
    }
}

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("must be 18 characters (variety 4 + manufacturer 5 + year 4 + sequence 5), got {0}")]
    Length(usize),
    #[error("variety code `{0}` is not a 4-digit special-equipment variety")]
    Variety(String),
    #[error(
        "manufacturer code `{0}` must be 5 digits (2-digit licensing region + 3-digit licence no.)"
    )]
    Manufacturer(String),
    #[error("manufacture year `{0}` must be a year between 1950 and next year")]
    Year(String),
    #[error("sequence `{0}` must be 5 digits or capital letters")]
    Sequence(String),
    #[error("rescue code must be 5 to 8 digits")]
    Rescue,
}

/// 设备代码: the lifetime 18-character equipment code assigned at manufacture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquipmentCode {
    pub variety: String,
    pub manufacturer: String,
    pub year: i32,
    pub sequence: String,
}

impl EquipmentCode {
    /// Parses and checks each part; `max_year` is the latest plausible manufacture year.
    pub fn parse(s: &str, max_year: i32) -> Result<Self, CodeError> {
        let s = s.trim();
        if s.chars().count() != 18 || !s.is_ascii() {
            return Err(CodeError::Length(s.chars().count()));
        }
        let (variety, rest) = s.split_at(4);
        let (manufacturer, rest) = rest.split_at(5);
        let (year, sequence) = rest.split_at(4);
        if !variety.bytes().all(|b| b.is_ascii_digit()) || Category::of_variety(variety).is_none() {
            return Err(CodeError::Variety(variety.into()));
        }
        if !manufacturer.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Manufacturer(manufacturer.into()));
        }
        let y: i32 = year
            .parse()
            .ok()
            .filter(|y| (1950..=max_year).contains(y))
            .ok_or_else(|| CodeError::Year(year.into()))?;
        if !sequence
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(CodeError::Sequence(sequence.into()));
        }
        Ok(Self {
            variety: variety.into(),
            manufacturer: manufacturer.into(),
            year: y,
            sequence: sequence.into(),
        })
    }
    pub fn as_string(&self) -> String {
        format!(
            "{}{}{:04}{}",
            self.variety, self.manufacturer, self.year, self.sequence
        )
    }
}

/// 应急救援识别码: an opaque city-scoped numeric string of 5–8 digits.
pub fn parse_rescue_code(s: &str) -> Result<String, CodeError> {
    let s = s.trim();
    if (5..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(CodeError::Rescue)
    }
}

/// Equipment status lifecycle: registered → in use → suspended ⇄ in use → scrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentStatus {
    Registered,
    InUse,
    Suspended,
    Scrapped,
}

impl EquipmentStatus {
    pub const ALL: [EquipmentStatus; 4] = [
        EquipmentStatus::Registered,
        EquipmentStatus::InUse,
        EquipmentStatus::Suspended,
        EquipmentStatus::Scrapped,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EquipmentStatus::Registered => "registered",
            EquipmentStatus::InUse => "in_use",
            EquipmentStatus::Suspended => "suspended",
            EquipmentStatus::Scrapped => "scrapped",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
    pub fn can_become(self, to: EquipmentStatus) -> bool {
        use EquipmentStatus::*;
        matches!(
            (self, to),
            (Registered, InUse)
                | (Registered, Scrapped)
                | (InUse, Suspended)
                | (InUse, Scrapped)
                | (Suspended, InUse)
                | (Suspended, Scrapped)
        )
    }
}

/// An elevator-monitor alarm code (GB/T 24476 practice, as the wtmonitor gateway uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmCode(pub u8);

impl AlarmCode {
    /// Parses `02`, `2`, `0a`, `0x0a` (hexadecimal) into a known code.
    pub fn parse(s: &str) -> Option<AlarmCode> {
        let t = s.trim().trim_start_matches("0x").trim_start_matches("0X");
        if t.is_empty() || t.len() > 2 {
            return None;
        }
        let v = u8::from_str_radix(t, 16).ok()?;
        matches!(v, 0x01..=0x0d | 0x10).then_some(AlarmCode(v))
    }
    /// Whether the alarm means passengers are trapped (02, 04, 06, 0a).
    pub fn trapped(self) -> bool {
        matches!(self.0, 0x02 | 0x04 | 0x06 | 0x0a)
    }
    pub fn as_str(self) -> String {
        format!("{:02x}", self.0)
    }
    pub fn label_zh(self) -> &'static str {
        match self.0 {
            0x01 => "超速",
            0x02 => "困人",
            0x03 => "关门故障",
            0x04 => "冲顶困人",
            0x05 => "冲顶",
            0x06 => "蹲底困人",
            0x07 => "蹲底",
            0x08 => "开门走车",
            0x09 => "运行中开门",
            0x0a => "非平层停梯困人",
            0x0b => "非平层停梯",
            0x0c => "停电",
            0x0d => "开门不到位",
            _ => "门区外开门",
        }
    }
}

/// Great-circle distance in km.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let r = 6371.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equipment_code_parts_are_checked() {
        let c = EquipmentCode::parse("311010890201500123", 2026).unwrap();
        assert_eq!(c.variety, "3110");
        assert_eq!(c.manufacturer, "10890");
        assert_eq!(c.year, 2015);
        assert_eq!(c.sequence, "00123");
        assert_eq!(c.as_string(), "311010890201500123");
        assert_eq!(
            EquipmentCode::parse("31101089020150012", 2026),
            Err(CodeError::Length(17))
        );
        assert!(matches!(
            EquipmentCode::parse("A11010890201500123", 2026),
            Err(CodeError::Variety(_))
        ));
        assert!(matches!(
            EquipmentCode::parse("7110108902015001 3", 2026),
            Err(CodeError::Variety(_)) | Err(CodeError::Sequence(_))
        ));
        assert!(matches!(
            EquipmentCode::parse("31101089X201500123", 2026),
            Err(CodeError::Manufacturer(_))
        ));
        assert!(matches!(
            EquipmentCode::parse("311010890209900123", 2026),
            Err(CodeError::Year(_))
        ));
        assert!(EquipmentCode::parse("3110108902015A0123", 2026).is_ok());
        assert!(matches!(
            EquipmentCode::parse("3110108902015a0123", 2026),
            Err(CodeError::Sequence(_))
        ));
    }

    #[test]
    fn rescue_codes_and_alarms() {
        assert!(parse_rescue_code("12345").is_ok());
        assert!(parse_rescue_code("1234").is_err());
        assert!(parse_rescue_code("123456789").is_err());
        assert!(parse_rescue_code("12a45").is_err());
        assert!(AlarmCode::parse("02").unwrap().trapped());
        assert!(AlarmCode::parse("0a").unwrap().trapped());
        assert!(AlarmCode::parse("0x04").unwrap().trapped());
        assert!(!AlarmCode::parse("05").unwrap().trapped());
        assert!(AlarmCode::parse("0e").is_none());
        assert!(AlarmCode::parse("00").is_none());
        assert!(AlarmCode::parse("0").is_none());
        assert_eq!(AlarmCode::parse("10").unwrap().as_str(), "10");
    }

    #[test]
    fn status_lifecycle() {
        use EquipmentStatus::*;
        assert!(Registered.can_become(InUse));
        assert!(InUse.can_become(Suspended));
        assert!(Suspended.can_become(InUse));
        assert!(!Scrapped.can_become(InUse));
        assert!(!InUse.can_become(Registered));
    }

    #[test]
    fn distance_is_plausible() {
        let d = haversine_km(24.5, 118.0, 24.5, 118.1);
        assert!((d - 10.1).abs() < 0.3, "{d}");
    }
}

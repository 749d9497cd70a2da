//! The demo city 示范市 / Demo City: ten districts and counties with their streets and
//! communities, generated deterministically from a seed, with GeoJSON boundaries that tile the
//! city exactly (so every map works offline), and a demo account for every role.

use crate::auth::{Role, password};
use crate::db::BeginWrite;
use crate::entity::region;
use crate::store::{
    self, StoreError,
    regions::NewRegion,
    users::{NewUser, Username},
};
use rand_xoshiro::SplitMix64;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};
use sea_orm::ConnectionTrait;

/// GB/T 2260-shaped code of the demo city (prefix 99 is no real province).
pub const DEMO_CITY_CODE: &str = "990100";

/// The deterministic generator every demo seeder shares (SplitMix64, from `rand_xoshiro`), so the
/// same seed always gives the same city.
#[derive(Debug, Clone)]
pub struct DemoRng(SplitMix64);

impl DemoRng {
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15))
    }
    /// A generator for a named stream, independent of the order other streams are drawn in.
    pub fn stream(seed: u64, name: &str) -> Self {
        let mut h = seed;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01B3);
        }
        Self::new(h)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-12);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// (code suffix, zh, en, urban) of the demo districts and counties.
const DISTRICTS: [(&str, &str, &str, bool); 10] = [
    ("01", "中心区", "Zhongxin District", true),
    ("02", "东湖区", "Donghu District", true),
    ("03", "西山区", "Xishan District", true),
    ("04", "南江区", "Nanjiang District", true),
    ("05", "北岭区", "Beiling District", true),
    ("06", "高新区", "Gaoxin District", true),
    ("07", "滨海区", "Binhai District", true),
    ("08", "临港区", "Lingang District", true),
    ("21", "青云县", "Qingyun County", false),
    ("22", "白石县", "Baishi County", false),
];

const STREET_NAMES: [(&str, &str); 12] = [
    ("朝阳", "Chaoyang"),
    ("人民路", "Renminlu"),
    ("文化", "Wenhua"),
    ("和平", "Heping"),
    ("新华", "Xinhua"),
    ("建设", "Jianshe"),
    ("友谊", "Youyi"),
    ("胜利", "Shengli"),
    ("长江路", "Changjianglu"),
    ("金桥", "Jinqiao"),
    ("银湖", "Yinhu"),
    ("花园", "Huayuan"),
];

const COMMUNITY_NAMES: [(&str, &str); 3] = [("东", "East"), ("西", "West"), ("中", "Central")];

/// District grid: 5 × 2 districts, each 2 × 3 streets, each street 2 × 2 finest cells.
const DX: usize = 5;
const DY: usize = 2;
const SX: usize = 2;
const SY: usize = 3;
const F: usize = 2;
const LON0: f64 = 118.0;
const LON1: f64 = 118.6;
const LAT0: f64 = 24.4;
const LAT1: f64 = 24.9;

/// The jittered vertex grid shared by all polygons, so neighbours share edges exactly.
struct VertexGrid {
    cols: usize,
    pts: Vec<(f64, f64)>,
}

impl VertexGrid {
    fn new(rng: &mut DemoRng) -> Self {
        let cols = DX * SX * F + 1;
        let rows = DY * SY * F + 1;
        let dx = (LON1 - LON0) / (cols - 1) as f64;
        let dy = (LAT1 - LAT0) / (rows - 1) as f64;
        let mut pts = Vec::with_capacity(cols * rows);
        for r in 0..rows {
            for c in 0..cols {
                let edge = r == 0 || c == 0 || r == rows - 1 || c == cols - 1;
                let (jx, jy) = if edge {
                    (0.0, 0.0)
                } else {
                    (rng.range(-0.3, 0.3) * dx, rng.range(-0.3, 0.3) * dy)
                };
                pts.push((LON0 + c as f64 * dx + jx, LAT0 + r as f64 * dy + jy));
            }
        }
        Self { cols, pts }
    }
    fn at(&self, c: usize, r: usize) -> (f64, f64) {
        self.pts[r * self.cols + c]
    }
    /// Counter-clockwise closed ring around the block of cells [c0, c1) × [r0, r1).
    fn ring(&self, c0: usize, c1: usize, r0: usize, r1: usize) -> Vec<(f64, f64)> {
        let mut ring = Vec::new();
        for c in c0..c1 {
            ring.push(self.at(c, r0));
        }
        for r in r0..r1 {
            ring.push(self.at(c1, r));
        }
        for c in (c0 + 1..=c1).rev() {
            ring.push(self.at(c, r1));
        }
        for r in (r0 + 1..=r1).rev() {
            ring.push(self.at(c0, r));
        }
        ring.push(self.at(c0, r0));
        ring
    }
}

fn polygon_json(ring: &[(f64, f64)]) -> String {
    let coords: Vec<[f64; 2]> = ring
        .iter()
        .map(|(x, y)| [(x * 1e5).round() / 1e5, (y * 1e5).round() / 1e5])
        .collect();
    serde_json::json!({"type": "Polygon", "coordinates": [coords]}).to_string()
}

/// Area of a lon/lat ring in km² (equirectangular projection; fine at city scale).
pub fn ring_area_km2(ring: &[(f64, f64)]) -> f64 {
    let lat0 = ring.iter().map(|p| p.1).sum::<f64>() / ring.len().max(1) as f64;
    let kx = 111.320 * lat0.to_radians().cos();
    let ky = 110.574;
    let mut a = 0.0;
    for w in ring.windows(2) {
        a += (w[0].0 * kx) * (w[1].1 * ky) - (w[1].0 * kx) * (w[0].1 * ky);
    }
    (a / 2.0).abs()
}

/// A demo account and its password (printed once, when it is created).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub role: Role,
    pub region: String,
    pub password: Option<String>,
}

/// What seeding the demo city produced.
pub struct DemoCity {
    pub city_id: i64,
    pub accounts: Vec<DemoAccount>,
    pub districts: Vec<region::Model>,
    pub streets: Vec<region::Model>,
}

/// Creates (or finds) the demo city with its regions and demo accounts. Idempotent and
/// deterministic from `seed`.
pub async fn seed_demo_city(
    db: &sea_orm::DatabaseConnection,
    seed: u64,
) -> Result<DemoCity, StoreError> {
    let txn = db.begin_write().await?;
    let city = store::cities::ensure_city(&txn, DEMO_CITY_CODE, "示范市", "Demo City").await?;
    let cid = city.id;
    let mut rng = DemoRng::stream(seed, "regions");
    let grid = VertexGrid::new(&mut rng);
    let city_ring = grid.ring(0, DX * SX * F, 0, DY * SY * F);
    store::regions::upsert(
        &txn,
        cid,
        &NewRegion {
            code: DEMO_CITY_CODE.into(),
            parent_code: None,
            name_zh: "示范市".into(),
            name_en: "Demo City".into(),
            urban: true,
            population: None,
            area_km2: Some(ring_area_km2(&city_ring)),
            boundary: Some(polygon_json(&city_ring)),
        },
    )
    .await?;
    let mut districts = Vec::new();
    let mut streets = Vec::new();
    let mut city_pop = 0;
    for (i, (suffix, zh, en, urban)) in DISTRICTS.iter().enumerate() {
        let (gx, gy) = (i % DX, i / DX);
        let code = format!("9901{suffix}");
        let (c0, r0) = (gx * SX * F, gy * SY * F);
        let ring = grid.ring(c0, c0 + SX * F, r0, r0 + SY * F);
        let area = ring_area_km2(&ring);
        let density = if *urban {
            rng.range(2500.0, 9000.0)
        } else {
            rng.range(250.0, 600.0)
        };
        let pop = (area * density).round() as i64;
        city_pop += pop;
        let d = store::regions::upsert(
            &txn,
            cid,
            &NewRegion {
                code: code.clone(),
                parent_code: Some(DEMO_CITY_CODE.into()),
                name_zh: (*zh).into(),
                name_en: (*en).into(),
                urban: *urban,
                population: Some(pop),
                area_km2: Some((area * 100.0).round() / 100.0),
                boundary: Some(polygon_json(&ring)),
            },
        )
        .await?;
        districts.push(d);
        let mut remaining = pop;
        for s in 0..SX * SY {
            let (sx, sy) = (s % SX, s / SX);
            let sring = grid.ring(
                c0 + sx * F,
                c0 + (sx + 1) * F,
                r0 + sy * F,
                r0 + (sy + 1) * F,
            );
            let (szh, sen) = STREET_NAMES[(i * 5 + s) % STREET_NAMES.len()];
            let scode = format!("{code}{:03}", s + 1);
            let spop = if s + 1 == SX * SY {
                remaining
            } else {
                (pop as f64 / (SX * SY) as f64 * rng.range(0.7, 1.3)).round() as i64
            };
            remaining -= spop;
            let (kind_zh, kind_en) = if *urban {
                ("街道", "Subdistrict")
            } else {
                ("镇", "Town")
            };
            let st = store::regions::upsert(
                &txn,
                cid,
                &NewRegion {
                    code: scode.clone(),
                    parent_code: Some(code.clone()),
                    name_zh: format!("{szh}{kind_zh}"),
                    name_en: format!("{sen} {kind_en}"),
                    urban: *urban,
                    population: Some(spop.max(0)),
                    area_km2: Some((ring_area_km2(&sring) * 100.0).round() / 100.0),
                    boundary: Some(polygon_json(&sring)),
                },
            )
            .await?;
            for (k, (czh, cen)) in COMMUNITY_NAMES.iter().enumerate() {
                let (ckind_zh, ckind_en) = if *urban {
                    ("社区", "Community")
                } else {
                    ("村", "Village")
                };
                store::regions::upsert(
                    &txn,
                    cid,
                    &NewRegion {
                        code: format!("{scode}{:03}", k + 1),
                        parent_code: Some(scode.clone()),
                        name_zh: format!("{szh}{czh}{ckind_zh}"),
                        name_en: format!("{sen} {cen} {ckind_en}"),
                        urban: *urban,
                        population: None,
                        area_km2: None,
                        boundary: None,
                    },
                )
                .await?;
            }
            streets.push(st);
        }
    }
    let _ = city_pop;
    let accounts = ensure_demo_accounts(&txn, cid).await?;
    txn.commit().await?;
    Ok(DemoCity {
        city_id: cid,
        accounts,
        districts,
        streets,
    })
}

/// One account per role; the data officer and the viewer are scoped to a district to show
/// region scoping.
async fn ensure_demo_accounts(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Vec<DemoAccount>, StoreError> {
    let plan: [(&str, Role, &str); 8] = [
        ("admin", Role::Admin, DEMO_CITY_CODE),
        ("analyst", Role::Analyst, DEMO_CITY_CODE),
        ("officer", Role::DataOfficer, "990102"),
        ("inspector", Role::Inspector, DEMO_CITY_CODE),
        ("dispatcher", Role::Dispatcher, DEMO_CITY_CODE),
        ("maintainer", Role::Maintainer, DEMO_CITY_CODE),
        ("energy", Role::EnergyManager, DEMO_CITY_CODE),
        ("viewer", Role::Viewer, "990103"),
    ];
    let mut out = Vec::new();
    for (name, role, region) in plan {
        if store::users::by_username(db, city_id, name)
            .await?
            .is_some()
        {
            out.push(DemoAccount {
                username: name.into(),
                role,
                region: region.into(),
                password: None,
            });
            continue;
        }
        let pw = crate::ids::random_token(12);
        let hash = password::hash_async(pw.clone())
            .await
            .map_err(|e| StoreError::invalid("password", e.to_string()))?;
        store::users::create(
            db,
            city_id,
            NewUser {
                username: Username::parse(name)?,
                display_name: format!("demo {name}"),
                password_hash: hash,
                role,
                region_code: region.into(),
                company_id: None,
                enterprise_id: None,
            },
        )
        .await?;
        out.push(DemoAccount {
            username: name.into(),
            role,
            region: region.into(),
            password: Some(pw),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64's published stream from state 0 (Vigna's reference `splitmix64.c`): the
    /// demo city of a seed stays the same city.
    #[test]
    fn rng_is_splitmix64() {
        let mut r = DemoRng::new(0x9E37_79B9_7F4A_7C15);
        assert_eq!(
            [r.next_u64(), r.next_u64(), r.next_u64()],
            [
                0xE220_A839_7B1D_CDAF,
                0x6E78_9E6A_A1B9_65F4,
                0x06C4_5D18_8009_454F
            ]
        );
    }

    #[test]
    fn rng_is_deterministic_and_uniform() {
        let mut a = DemoRng::new(7);
        let mut b = DemoRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = DemoRng::new(1);
        let mean = (0..100_000).map(|_| r.f64()).sum::<f64>() / 100_000.0;
        assert!((mean - 0.5).abs() < 0.01);
    }

    #[test]
    fn districts_tile_the_city() {
        let mut rng = DemoRng::new(3);
        let g = VertexGrid::new(&mut rng);
        let city = ring_area_km2(&g.ring(0, DX * SX * F, 0, DY * SY * F));
        let mut sum = 0.0;
        for i in 0..DX * DY {
            let (gx, gy) = (i % DX, i / DX);
            sum += ring_area_km2(&g.ring(
                gx * SX * F,
                (gx + 1) * SX * F,
                gy * SY * F,
                (gy + 1) * SY * F,
            ));
        }
        assert!(
            // each ring is projected at its own mean latitude: equal up to projection error
            (sum - city).abs() / city < 1e-3,
            "districts {sum} vs city {city}"
        );
    }

    #[test]
    fn unit_square_area() {
        // A 0.01° × 0.01° square at the equator ≈ 1.1132 km × 1.10574 km.
        let ring = [
            (0.0, 0.0),
            (0.01, 0.0),
            (0.01, 0.01),
            (0.0, 0.01),
            (0.0, 0.0),
        ];
        assert!((ring_area_km2(&ring) - 1.1132 * 1.10574).abs() < 1e-3);
    }
}

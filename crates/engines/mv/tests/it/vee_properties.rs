//! Property tests of VEE invariants: the raw series is never modified, every estimated
//! value is flagged and carries an estimation edit, counts are conserved, and every raw
//! reading is either placed on the grid or reported as rejected.
use chrono::{DateTime, Duration};
use proptest::prelude::*;
use qcity_mv::series::Reading;
use qcity_mv::vee::{Quality, config_for, run_vee};

fn readings() -> impl Strategy<Value = Vec<Reading>> {
    prop::collection::vec(
        (
            0i64..400,
            prop::option::weighted(0.85, -5.0f64..200.0),
            0u8..10,
        ),
        1..300,
    )
    .prop_map(|v| {
        let t0 = DateTime::parse_from_rfc3339("2024-03-01T00:00:00+08:00").unwrap();
        v.into_iter()
            .map(|(slot, value, jitter)| Reading {
                // 1 in 10 readings off the 15-minute grid.
                at: t0
                    + Duration::minutes(15 * slot)
                    + Duration::minutes(i64::from(jitter == 0) * 7),
                value,
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn vee_invariants(raw in readings()) {
        let before = raw.clone();
        let cfg = config_for(&raw, 15);
        let out = run_vee(&raw, &cfg, None, &[]).unwrap();
        // Raw never modified, and returned unchanged.
        prop_assert_eq!(&raw, &before);
        prop_assert_eq!(&out.raw, &before);
        // Every estimated value is flagged with an estimation rule and has an edit trail.
        for iv in &out.validated {
            if iv.quality == Quality::Estimated {
                prop_assert!(iv.value.is_some());
                prop_assert!(iv.flags.iter().any(|f| f.is_estimation()));
                prop_assert!(iv.edits.last().is_some_and(|e| e.rule.is_estimation() && e.after == iv.value));
            } else {
                prop_assert!(iv.edits.iter().all(|e| !e.rule.is_estimation()));
            }
            if iv.quality == Quality::Missing {
                prop_assert!(iv.value.is_none());
            }
            // A value that was not edited is the raw value.
            if iv.edits.is_empty() {
                prop_assert_eq!(iv.value, iv.raw);
            }
        }
        // Counts conserved.
        let c = out.counts;
        prop_assert_eq!(c.valid + c.suspect + c.estimated + c.missing, out.validated.len());
        // Grid is regular.
        for w in out.validated.windows(2) {
            prop_assert_eq!(w[1].start - w[0].start, Duration::minutes(15));
        }
        // Every raw reading is on the grid (its slot exists) or rejected.
        let placed = raw.iter().enumerate().filter(|(i, r)| {
            !out.rejected.iter().any(|x| x.index == *i)
                && out.validated.iter().any(|iv| iv.start == r.at)
        }).count();
        prop_assert_eq!(placed + out.rejected.len(), raw.len());
        // Daily completeness never reports more valid intervals than expected.
        for d in &out.days {
            prop_assert!(d.valid <= d.present && d.present <= d.expected);
        }
    }
}

//! Property tests of the processing chain: for a register that only counts up (wrapping at
//! its rollover value), the derived increments sum to the metered consumption × multiplier,
//! and every wrap is reported as a rollover.
use chrono::{DateTime, Duration};
use proptest::prelude::*;
use qcity_mv::chain::{ChannelChain, ChannelKind, RegisterEventKind, process};
use qcity_mv::series::Reading;

proptest! {
    #[test]
    fn increments_conserve_consumption(
        start in 0.0f64..99_999.0,
        steps in prop::collection::vec(0.0f64..50.0, 1..200),
        ct in 1.0f64..200.0,
    ) {
        let rollover = 100_000.0;
        let t0 = DateTime::parse_from_rfc3339("2024-01-01T00:00:00+08:00").unwrap();
        let mut reg = start;
        let mut raw = vec![Reading { at: t0, value: Some(reg) }];
        let mut wraps = 0;
        for (i, s) in steps.iter().enumerate() {
            reg += s;
            if reg >= rollover {
                reg -= rollover;
                wraps += 1;
            }
            raw.push(Reading { at: t0 + Duration::minutes(15 * (i as i64 + 1)), value: Some(reg) });
        }
        let chain = ChannelChain {
            kind: ChannelKind::Register { rollover_at: Some(rollover), max_increment: 60.0 },
            ct_ratio: ct,
            ..ChannelChain::interval()
        };
        let out = process(&chain, &raw).unwrap();
        let total: f64 = out.values.iter().filter_map(|r| r.value).sum();
        let expected: f64 = steps.iter().sum::<f64>() * ct;
        prop_assert!((total - expected).abs() <= 1e-6 * expected.max(1.0));
        prop_assert_eq!(out.values.len(), steps.len());
        let rollovers = out.events.iter().filter(|e| e.kind == RegisterEventKind::Rollover).count();
        prop_assert_eq!(rollovers, wraps);
        prop_assert!(out.events.iter().all(|e| e.kind == RegisterEventKind::Rollover));
    }
}

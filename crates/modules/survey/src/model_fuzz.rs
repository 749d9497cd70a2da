//! Fuzzing the questionnaire JSON import (the builder's "advanced" box): arbitrary text and the
//! standard questionnaire with random parts replaced are parsed, validated and, when valid,
//! answered with random answers — nothing panics. `PROPTEST_CASES` raises the case count.

use crate::builtin;
use crate::model::{QuestionnaireDef, RawAnswer, parse_answers};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// A small random JSON value.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just(0i64),
            Just(2),
            Just(5),
            Just(7),
            Just(11),
            Just(-1),
            Just(u32::MAX as i64 + 1)
        ]
        .prop_map(Value::from),
        "[a-z_0-9]{0,6}".prop_map(Value::from),
        Just(Value::from("likert")),
        Just(Value::from("single")),
        Just(Value::from("multiple")),
        Just(Value::from("numeric")),
        Just(Value::from("district")),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer inside `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(qcity_platform::testing::fuzz_cases(48)))]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        if let Ok(d) = serde_json::from_str::<QuestionnaireDef>(&s) {
            let _ = d.validate();
        }
    }

    #[test]
    fn mutated_questionnaires_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), json_value()), 1..6),
        answers in proptest::collection::btree_map(
            "[A-Za-z0-9_]{1,6}",
            prop_oneof![
                "\\PC{0,8}".prop_map(RawAnswer::Text),
                proptest::collection::vec("[a-z0-9]{0,4}", 0..4).prop_map(RawAnswer::Many),
            ],
            0..12,
        ),
    ) {
        let mut v = serde_json::to_value(builtin::standard()).expect("standard as JSON");
        for (i, new) in edits {
            let mut ps = Vec::new();
            pointers(&v, String::new(), &mut ps);
            let p = &ps[i.index(ps.len())];
            if p.is_empty() {
                continue;
            }
            if let Some(slot) = v.pointer_mut(p) {
                *slot = new;
            }
        }
        let text = v.to_string();
        let Ok(def) = serde_json::from_str::<QuestionnaireDef>(&text) else {
            return Ok(());
        };
        if def.validate().is_err() {
            return Ok(());
        }
        // Answer with random codes, and with answers to the questionnaire's own codes.
        let mut raw = answers.clone();
        for (q, (_, a)) in def.questions.iter().zip(answers.iter()) {
            raw.insert(q.code.clone(), a.clone());
        }
        let districts = vec!["990101".to_string(), "990102".to_string()];
        for complete in [false, true] {
            let _ = parse_answers(&def, &raw, &BTreeMap::new(), None, &districts, complete);
        }
    }
}

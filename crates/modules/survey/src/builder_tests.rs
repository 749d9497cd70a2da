//! The builder's form parsing and editing steps.

use super::*;

fn form(code: &str, kind: &str) -> QuestionForm {
    QuestionForm {
        code: code.into(),
        kind: kind.into(),
        scale: "5".into(),
        text_zh: "题目".into(),
        page: "1".into(),
        ..Default::default()
    }
}

#[test]
fn options_parse_by_line_and_name_the_line() {
    let mut f = form("Q1", "single");
    f.options = "a|甲|A\n\n b | 乙 \n".into();
    let q = f.parse().unwrap();
    assert_eq!(q.options.len(), 2);
    assert_eq!(q.options[1].label_zh, "乙");
    assert_eq!(q.options[1].label_en, "");
    f.options = "a|甲\n|乙".into();
    assert_eq!(f.parse().unwrap_err().0, "options");
    assert!(f.parse().unwrap_err().1.contains("line 2"));
}

#[test]
fn numeric_range_and_scale_are_checked() {
    let mut f = form("N", "numeric");
    f.min = "0".into();
    f.max = "abc".into();
    assert_eq!(f.parse().unwrap_err().0, "max");
    let mut l = form("L", "likert");
    l.scale = "6".into();
    assert_eq!(l.parse().unwrap_err().0, "scale");
    l.scale = "11".into();
    assert_eq!(l.parse().unwrap().scale_range(), Some((0.0, 10.0)));
}

#[test]
fn catalogue_indicator_brings_its_names() {
    let mut f = form("P99", "likert");
    f.indicator_code = "P-AUTO".into();
    let q = f.parse().unwrap();
    assert_eq!(q.indicator_zh, "汽车");
    assert_eq!(q.indicator_en, "Automobiles");
}

#[test]
fn upsert_renames_conditions_and_move_crosses_sections() {
    let a = form("A", "single");
    let mut a = a.parse().unwrap();
    a.options = vec![
        OptionDef {
            code: "y".into(),
            label_zh: "是".into(),
            label_en: String::new(),
        },
        OptionDef {
            code: "n".into(),
            label_zh: "否".into(),
            label_en: String::new(),
        },
    ];
    let mut b = form("B", "text").parse().unwrap();
    b.show_if = Some(Condition {
        question: "A".into(),
        any_of: vec!["y".into()],
    });
    let mut c = form("C", "text").parse().unwrap();
    c.page = 2;
    let def = QuestionnaireDef {
        code: "T".into(),
        title_zh: "测".into(),
        title_en: String::new(),
        questions: vec![a.clone(), b, c],
    };
    def.validate().unwrap();
    let mut a2 = a.clone();
    a2.code = "A2".into();
    let d = upsert(&def, "A", a2).unwrap();
    assert_eq!(d.questions[1].show_if.as_ref().unwrap().question, "A2");
    assert!(upsert(&def, "", form("B", "text").parse().unwrap()).is_err());
    // C (section 2) moved up joins section 1, keeping its place after B.
    let m = move_by(&def, "C", true).unwrap();
    assert_eq!(m.questions[2].code, "C");
    assert_eq!(m.questions[2].page, 1);
    let m2 = move_by(&m, "C", true).unwrap();
    assert_eq!(m2.questions[1].code, "C");
    assert!(move_by(&def, "A", true).is_none());
    // Moving B above A breaks its display condition: validation refuses it.
    let bad = move_by(&def, "B", true).unwrap();
    assert_eq!(
        bad.validate().unwrap_err().field,
        "questions[0].show_if.question"
    );
}

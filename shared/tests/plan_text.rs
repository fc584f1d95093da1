//! Reading plan documents: the seed exactly, the other formats real plans use, and bad input.

use chrono::NaiveDate;
use proptest::prelude::*;
use shared::plan_text::{ParsedPlan, parse, parse_bytes};
use shared::unit::{UnitEntry, UnitKind};
use std::time::{Duration, Instant};

const SEED: &str = include_str!("../../seeds/yantian-2014-key-reforms.txt");
const BAOAN: &str = include_str!("fixtures/baoan-2015-reform-points.txt");
const LUOHU_CRLF: &[u8] = include_bytes!("fixtures/luohu-2016-reform-plan-crlf.txt");
const GUANGMING_BOM: &[u8] = include_bytes!("fixtures/guangming-2014-reform-plan.txt");

fn read(text: &str) -> ParsedPlan {
    match parse(text) {
        Ok(parsed) => parsed,
        Err(err) => panic!("document should parse:\n{err}"),
    }
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// (number, title, lead units, cooperating units, leaders) for each item.
type Expected<'a> = (u32, &'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);

fn assert_items(parsed: &ParsedPlan, expected: &[Expected<'_>]) {
    let items = &parsed.plan.items;
    assert_eq!(items.len(), expected.len(), "item count");
    for (item, (number, title, lead, cooperating, leaders)) in items.iter().zip(expected) {
        assert_eq!(item.number, *number, "number of {title}");
        assert_eq!(item.title, *title, "title of item {number}");
        assert_eq!(item.lead_units, *lead, "lead units of item {number}");
        assert_eq!(
            item.cooperating_units, *cooperating,
            "cooperating units of item {number}"
        );
        assert_eq!(item.lead_leaders, *leaders, "leaders of item {number}");
    }
}

fn unit<'a>(parsed: &'a ParsedPlan, name: &str) -> &'a UnitEntry {
    match parsed.units.iter().find(|u| u.name == name) {
        Some(unit) => unit,
        None => panic!("no unit {name} in {:?}", parsed.units),
    }
}

const SEED_ITEMS: [Expected<'static>; 14] = [
    (
        1,
        "深入推进行政审批制度改革",
        &["区委〈府〉办", "区委组织部〈编办〉"],
        &["区纪委〈监察局〉", "区经促局", "盐田市场监管分局"],
        &[],
    ),
    (
        2,
        "推进国企管理体制改革",
        &["区财政局〈国资委〉"],
        &[
            "区委组织部〈编办〉",
            "区发改局",
            "区经促局",
            "区审计局",
            "区属各企业",
        ],
        &[],
    ),
    (
        3,
        "推进投融资体制改革",
        &["区发改局"],
        &[
            "区工商联",
            "区经促局",
            "区财政局〈国资委〉",
            "区审计局",
            "区属各企业",
        ],
        &[],
    ),
    (
        4,
        "开展集体股份合作公司试点改革",
        &["区财政局〈国资委〉"],
        &[
            "区纪委〈监察局〉",
            "区委组织部〈编办〉",
            "区社工委",
            "区发改局",
            "区经促局",
            "区民政局",
            "区审计局",
            "区城改办",
            "各街道办",
            "滨海规划国土局",
        ],
        &[],
    ),
    (
        5,
        "稳妥推进土地管理制度改革",
        &["滨海规划国土局"],
        &["区城改办"],
        &[],
    ),
    (
        6,
        "中英街管理体制改革",
        &["区委组织部〈编办〉"],
        &[
            "区委〈府〉办",
            "区委政法委",
            "区经促局",
            "沙头角街道办",
            "沙商贸公司",
            "滨海规划国土局",
        ],
        &[],
    ),
    (
        7,
        "区法院审判权运行机制和人员分类改革",
        &["区法院"],
        &["区委组织部〈编办〉"],
        &[],
    ),
    (
        8,
        "优化基层治理体制改革",
        &["区委组织部〈编办〉"],
        &["区社工委", "区民政局", "区人力局", "各街道办"],
        &[],
    ),
    (
        9,
        "探索完善创新基层协商民主机制",
        &["区政协办"],
        &["区委〈府〉办", "各街道办"],
        &[],
    ),
    (
        10,
        "推进区属事业单位综合配套改革试点",
        &["区委组织部〈编办〉"],
        &["区教育局", "区卫计局"],
        &[],
    ),
    (
        11,
        "社会建设“织网工程”",
        &["区社工委"],
        &[
            "区委组织部〈编办〉",
            "区委政法委",
            "区发改局",
            "区经促局",
            "区民政局",
            "区卫计局",
            "各街道办",
        ],
        &[],
    ),
    (
        12,
        "运行完善区生态文明建设考核办法",
        &["区环保水务局"],
        &["区委组织部〈编办〉"],
        &[],
    ),
    (
        13,
        "率先建立健全垃圾减量分类长效机制",
        &["区城管局"],
        &["区垃圾减量分类工作领导小组各成员单位"],
        &[],
    ),
    (
        14,
        "深入推进党代会常任制试点",
        &["区委组织部〈编办〉"],
        &["各基层党〈工〉委"],
        &[],
    ),
];

/// The seed's 27 units in order of first use: (name, aliases, is a group).
const SEED_UNITS: [(&str, &[&str], bool); 27] = [
    ("区委〈府〉办", &[], false),
    ("区委组织部〈编办〉", &["区委组织部"], false),
    ("区纪委〈监察局〉", &["区纪委"], false),
    ("区经促局", &[], false),
    ("盐田市场监管分局", &[], false),
    ("区财政局〈国资委〉", &[], false),
    ("区发改局", &[], false),
    ("区审计局", &[], false),
    ("区属各企业", &[], true),
    ("区工商联", &[], false),
    ("区社工委", &[], false),
    ("区民政局", &[], false),
    ("区城改办", &[], false),
    ("各街道办", &[], true),
    ("滨海规划国土局", &[], false),
    ("区委政法委", &[], false),
    ("沙头角街道办", &[], false),
    ("沙商贸公司", &[], false),
    ("区法院", &[], false),
    ("区人力局", &[], false),
    ("区政协办", &[], false),
    ("区教育局", &[], false),
    ("区卫计局", &["卫计局"], false),
    ("区环保水务局", &[], false),
    ("区城管局", &[], false),
    ("区垃圾减量分类工作领导小组各成员单位", &[], true),
    ("各基层党〈工〉委", &[], true),
];

#[test]
fn seed_head() {
    let parsed = read(SEED);
    let plan = &parsed.plan;
    assert_eq!(plan.title, "盐田区2014年重点改革计划");
    assert_eq!(
        plan.issuers,
        ["中共深圳市盐田区委办公室", "深圳市盐田区人民政府办公室"]
    );
    assert_eq!(plan.issue_date, date(2014, 3, 20));
    assert_eq!(plan.year(), Some(2014));
    assert!(
        plan.preamble
            .starts_with("为深入学习贯彻党的十八届三中全会")
    );
    assert!(plan.preamble.ends_with("制定本计划。"));
    let headings: Vec<&str> = plan.sections.iter().map(|s| s.heading.as_str()).collect();
    assert_eq!(
        headings,
        [
            "一、指导思想和改革目标",
            "二、2014年重点改革项目",
            "三、改革工作要求"
        ]
    );
    assert_eq!(plan.sections[0].body.len(), 1);
    assert!(plan.sections[1].body.is_empty());
    assert_eq!(plan.requirements.len(), 3);
    assert!(plan.requirements[0].starts_with("一是加强组织领导。"));
    assert!(plan.requirements[2].starts_with("三是加强协调督查。"));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn seed_items_with_exact_units() {
    let parsed = read(SEED);
    assert_items(&parsed, &SEED_ITEMS);
    let lines: Vec<usize> = parsed.plan.items.iter().map(|i| i.line).collect();
    assert_eq!(
        lines,
        [10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36]
    );
    for item in &parsed.plan.items {
        assert_eq!(item.section.as_deref(), Some("二、2014年重点改革项目"));
        assert!(
            item.body.starts_with(&item.title),
            "body of {} starts with its title",
            item.number
        );
        assert!(
            !item.body.contains("牵头"),
            "unit line left in body of {}",
            item.number
        );
    }
}

#[test]
fn seed_unit_directory() {
    let parsed = read(SEED);
    assert_eq!(parsed.units.len(), 27);
    for (entry, (name, aliases, group)) in parsed.units.iter().zip(SEED_UNITS) {
        assert_eq!(entry.name, name);
        assert_eq!(entry.aliases, aliases, "aliases of {name}");
        let kind = if group {
            UnitKind::Group
        } else {
            UnitKind::Department
        };
        assert_eq!(entry.kind, kind, "kind of {name}");
    }
    let directory = parsed.directory();
    assert_eq!(directory.canonical("区纪委"), Some("区纪委〈监察局〉"));
    assert_eq!(directory.canonical("卫计局"), Some("区卫计局"));
    assert_eq!(
        directory.canonical("区委组织部"),
        Some("区委组织部〈编办〉")
    );
    assert_eq!(directory.canonical("区国资委"), Some("区财政局〈国资委〉"));
    // Every unit an item names is in the directory under its canonical name.
    for item in &parsed.plan.items {
        for name in item.lead_units.iter().chain(&item.cooperating_units) {
            assert!(parsed.units.iter().any(|u| &u.name == name), "{name}");
        }
    }
}

#[test]
fn seed_deadlines() {
    let deadlines = read(SEED).plan.deadlines;
    assert_eq!(deadlines.work_plan, date(2014, 3, 31));
    assert!(deadlines.half_year_report);
    assert!(deadlines.annual_report);
}

#[test]
fn seed_bodies_keep_redactions_and_parentheticals() {
    let parsed = read(SEED);
    let items = &parsed.plan.items;
    assert!(
        items[2]
            .body
            .contains("创新政府投融资模式,******相关改革意见和实施办法")
    );
    assert!(
        items[9]
            .body
            .contains("以区妇幼保健院(计生中心)、区机关幼儿园")
    );
    assert!(items[10].body.contains("(以下简称“一库一队伍,两网两系统”)"));
    assert!(
        items[0]
            .body
            .ends_with("政府购买社会组织服务目录和运行流程图。")
    );
}

#[test]
fn seed_summary_json_has_the_cli_shape() {
    let summary = read(SEED).summary();
    let json = serde_json::to_value(&summary).expect("summary serializes");
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut top = keys(&json);
    shared::sorting::sort(&mut top);
    assert_eq!(top, ["items", "title", "units", "warnings"]);
    let mut item = keys(&json["items"][0]);
    shared::sorting::sort(&mut item);
    assert_eq!(
        item,
        [
            "cooperating_units",
            "lead_leaders",
            "lead_units",
            "number",
            "title"
        ]
    );
    let mut unit = keys(&json["units"][0]);
    shared::sorting::sort(&mut unit);
    assert_eq!(unit, ["aliases", "kind", "name"]);
    assert_eq!(
        json["items"][3]["lead_units"],
        serde_json::json!(["区财政局〈国资委〉"])
    );
    assert_eq!(json["units"][8]["kind"], "group");
    assert_eq!(json["warnings"], serde_json::json!([]));
    // The summary round-trips, so the CLI's output can be read back in tests.
    let back: shared::plan_text::PlanSummary = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, summary);
}

#[test]
fn seed_as_crlf_bytes_with_bom_reads_the_same() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(SEED.replace('\n', "\r\n").into_bytes());
    let crlf = parse_bytes(&bytes).expect("CRLF seed parses");
    assert_eq!(crlf, read(SEED));
}

#[test]
fn baoan_notice_with_chinese_numbered_items_and_labelled_lines() {
    let parsed = read(BAOAN);
    let plan = &parsed.plan;
    assert_eq!(plan.title, "宝安区2015年全面深化改革工作要点");
    assert_eq!(
        plan.issuers,
        ["中共深圳市宝安区委办公室", "深圳市宝安区人民政府办公室"]
    );
    assert_eq!(plan.issue_date, date(2015, 2, 12));
    assert!(
        plan.preamble
            .starts_with("2015年是全面深化改革的关键之年。")
    );
    assert_items(
        &parsed,
        &[
            (
                1,
                "深化商事登记制度改革",
                &["宝安市场监管分局"],
                &["宝安区发改局", "区经促局", "区国税局", "区地税局"],
                &["陈立新"],
            ),
            (
                2,
                "推进国有企业分类改革",
                &["区财政局〈国资委〉"],
                &["区委组织部〈编办〉", "区审计局", "区属各企业"],
                &["黄明"],
            ),
            (
                3,
                "深化投融资体制改革",
                &["宝安区发改局"],
                &["区财政局〈国资委〉", "区住房和建设局", "区水务局"],
                &["黄明"],
            ),
            (
                4,
                "推进土地整备利益统筹试点",
                &["区土地整备局"],
                &["规划国土委宝安管理局", "区财政局〈国资委〉", "各街道办事处"],
                &["李卫东", "陈立新"],
            ),
            (
                5,
                "深化医药卫生体制改革",
                &["区卫计局"],
                &["区委组织部〈编办〉", "区财政局〈国资委〉", "区人力资源局"],
                &["周晓红"],
            ),
            (
                6,
                "推进社区治理体制改革",
                &["区民政局", "区社工委"],
                &["区委组织部〈编办〉", "各街道办事处"],
                &["李卫东"],
            ),
            (
                7,
                "深化教育综合改革",
                &["区教育局"],
                &[
                    "区委组织部〈编办〉",
                    "区财政局〈国资委〉",
                    "区人力资源局",
                    "各街道办事处",
                ],
                &["周晓红"],
            ),
        ],
    );
    let items = &plan.items;
    // Sub-points 1．2． stay in their item; a parenthetical that names no unit stays in the body.
    assert!(items[0].body.contains("\n1．推进“三证合一”登记改革"));
    assert!(
        items[0]
            .body
            .ends_with("2．完善事中事后监管机制，建立跨部门联合惩戒机制。")
    );
    assert!(items[3].body.contains("200公顷（不含6亩历史遗留用地）。"));
    assert!(items[2].body.contains("（PPP）"));
    assert!(!items[2].body.contains("牵头"));
    // Numbering restarts at （一） in section 三; numbers stay unique.
    assert_eq!(items[4].section.as_deref(), Some("三、社会体制改革"));
    assert_eq!(items[4].line, 33);
    // The （一）（二）（三） of the measures section are not items: it names no units.
    assert_eq!(plan.requirements.len(), 3);
    assert!(plan.requirements[0].starts_with("（一）加强组织领导。"));
    assert_eq!(plan.sections.len(), 4);
    assert_eq!(plan.deadlines.work_plan, date(2015, 3, 15));
    assert!(plan.deadlines.half_year_report && plan.deadlines.annual_report);
    // Short forms, second names and the district's own name fold into one unit each.
    assert_eq!(parsed.units.len(), 19);
    assert_eq!(
        unit(&parsed, "区财政局〈国资委〉").aliases,
        ["区财政局", "区国资委"]
    );
    assert_eq!(
        unit(&parsed, "区委组织部〈编办〉").aliases,
        ["区编办", "区委组织部"]
    );
    assert_eq!(unit(&parsed, "宝安区发改局").aliases, ["区发改局"]);
    assert_eq!(unit(&parsed, "各街道办事处").kind, UnitKind::Group);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn luohu_crlf_with_responsible_and_participating_units() {
    assert!(
        LUOHU_CRLF.windows(2).any(|w| w == b"\r\n"),
        "fixture keeps its CRLF line ends"
    );
    let parsed = match parse_bytes(LUOHU_CRLF) {
        Ok(parsed) => parsed,
        Err(err) => panic!("{err}"),
    };
    let plan = &parsed.plan;
    assert_eq!(plan.title, "罗湖区2016年改革工作计划");
    assert_eq!(plan.issue_date, date(2016, 3, 1));
    assert!(plan.issuers.is_empty());
    assert_items(
        &parsed,
        &[
            (
                1,
                "深化“强区放权”改革",
                &["区编办"],
                &["区法制办", "区城管局", "各街道办事处"],
                &[],
            ),
            (
                2,
                "推进城市更新审批制度改革",
                &["区城市更新局"],
                &["区发改局", "区住建局", "罗湖规划土地监察局"],
                &[],
            ),
            (
                3,
                "推进棚户区改造体制机制创新",
                &["区住建局", "区棚改办"],
                &["区财政局", "区国资局", "区城投公司", "东晓街道办事处"],
                &["王伟民"],
            ),
            (
                4,
                "深化医疗卫生体制改革",
                &["区卫计局"],
                &["区人力资源局", "区财政局", "区发改局"],
                &[],
            ),
            (
                5,
                "创新基层社会治理",
                &["区民政局"],
                &["区委政法委", "区社工委", "区信息中心", "各街道办事处"],
                &[],
            ),
            (
                6,
                "推进区属国有企业改革",
                &["区国资局"],
                &["区财政局", "区审计局", "区属各国有企业"],
                &[],
            ),
        ],
    );
    assert!(
        plan.items[1]
            .body
            .ends_with("（2）建立城市更新项目联合审查机制。")
    );
    assert!(plan.items.iter().all(|i| !i.body.contains('\r')));
    assert_eq!(plan.requirements.len(), 3);
    assert_eq!(plan.deadlines.work_plan, date(2016, 4, 15));
    assert!(plan.deadlines.half_year_report && plan.deadlines.annual_report);
    assert_eq!(parsed.units.len(), 21);
    assert_eq!(unit(&parsed, "区属各国有企业").kind, UnitKind::Group);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    // The same text with LF line ends reads the same.
    let lf = String::from_utf8_lossy(LUOHU_CRLF).replace("\r\n", "\n");
    assert_eq!(read(&lf), parsed);
}

#[test]
fn guangming_units_on_the_item_line_and_signature_at_the_end() {
    assert!(
        GUANGMING_BOM.starts_with(&[0xEF, 0xBB, 0xBF]),
        "fixture keeps its byte-order mark"
    );
    let parsed = match parse_bytes(GUANGMING_BOM) {
        Ok(parsed) => parsed,
        Err(err) => panic!("{err}"),
    };
    let plan = &parsed.plan;
    assert_eq!(plan.title, "光明新区2014年综合配套改革计划");
    assert_eq!(
        plan.issuers,
        ["中共深圳市光明新区工作委员会", "深圳市光明新区管理委员会"]
    );
    assert_eq!(plan.issue_date, date(2014, 2, 28));
    assert_items(
        &parsed,
        &[
            (
                1,
                "推进新区管理体制改革",
                &["新区党政办"],
                &["新区组织人事局", "新区财政局"],
                &[],
            ),
            (
                2,
                "深化行政审批制度改革",
                &["新区发展和财政局"],
                &["新区城建局", "新区规划土地监察局"],
                &[],
            ),
            (
                3,
                "推进社区股份合作公司改革",
                &["新区社会建设局"],
                &["光明办事处", "公明办事处"],
                &[],
            ),
            (
                4,
                "推进公立医院改革",
                &["新区公共事业局"],
                &["新区财政局"],
                &[],
            ),
            (
                5,
                "推进环境保护管理体制改革",
                &["新区城建局"],
                &["新区环保水务局"],
                &[],
            ),
        ],
    );
    assert_eq!(
        plan.items[0].body,
        "推进新区管理体制改革。理顺新区与办事处的事权关系，推动管理重心下移。"
    );
    assert_eq!(
        plan.items[3].body,
        "推进公立医院改革。组建新区医疗集团，推行院长负责制。"
    );
    assert!(plan.items.iter().all(|i| i.section.is_none()));
    // The paragraph after the last item is the requirements, not part of item 5.
    assert_eq!(
        plan.requirements,
        ["各单位要在三月底前将工作方案报新区改革办，年底前报送全年改革工作总结。"]
    );
    assert_eq!(plan.deadlines.work_plan, date(2014, 3, 31));
    assert!(!plan.deadlines.half_year_report);
    assert!(plan.deadlines.annual_report);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn other_unit_line_forms() {
    let doc = "\
南山区2015年改革计划
一、改革项目
（一）推进甲改革
具体内容。
【牵头单位】区发改局
【配合单位】区财政局 区审计局
（二）推进乙改革。内容（含试点）。（牵头单位：区科创局，配合单位：区财政局等有关部门；牵头区领导：张三）
（三）推进丙改革。内容。
主责单位：区司法局；协办单位：区法院、区检察院
（四）推进丁改革。内容。
责任单位：区教育局、区财政局（配合）
二、工作要求
各牵头单位于3月20日前报送实施方案。
";
    let parsed = read(doc);
    assert_items(
        &parsed,
        &[
            (
                1,
                "推进甲改革",
                &["区发改局"],
                &["区财政局", "区审计局"],
                &[],
            ),
            (2, "推进乙改革", &["区科创局"], &["区财政局"], &["张三"]),
            (3, "推进丙改革", &["区司法局"], &["区法院", "区检察院"], &[]),
            (4, "推进丁改革", &["区教育局"], &["区财政局"], &[]),
        ],
    );
    assert_eq!(parsed.plan.items[0].body, "推进甲改革\n具体内容。");
    assert_eq!(parsed.plan.items[1].body, "推进乙改革。内容（含试点）。");
    assert_eq!(parsed.plan.deadlines.work_plan, date(2015, 3, 20));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn items_numbered_one_comma_without_sections() {
    let doc = "\
一、推进甲改革。内容。
（区发改局牵头，区财政局配合）
二、推进乙改革。内容。
（区卫计局牵头）
";
    let parsed = read(doc);
    assert_items(
        &parsed,
        &[
            (1, "推进甲改革", &["区发改局"], &["区财政局"], &[]),
            (2, "推进乙改革", &["区卫计局"], &[], &[]),
        ],
    );
    assert!(parsed.plan.sections.is_empty());
    // No title line: a warning, not an error.
    assert_eq!(parsed.plan.title, "");
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
}

#[test]
fn arabic_items_grouped_under_chinese_parenthesised_headings() {
    let doc = "\
坪山区2015年改革计划
为推进改革，制定本计划。
（一）经济领域改革
1．推进甲改革。内容。
（区发改局牵头，区财政局配合）
2．推进乙改革。内容。
（区财政局牵头）
（二）社会领域改革
3．推进丙改革。内容。
（区民政局牵头）
（三）工作要求
各牵头单位于3月底前报送实施方案，年底报送全年总结。
";
    let parsed = read(doc);
    assert_items(
        &parsed,
        &[
            (1, "推进甲改革", &["区发改局"], &["区财政局"], &[]),
            (2, "推进乙改革", &["区财政局"], &[], &[]),
            (3, "推进丙改革", &["区民政局"], &[], &[]),
        ],
    );
    let plan = &parsed.plan;
    assert_eq!(plan.preamble, "为推进改革，制定本计划。");
    assert_eq!(plan.items[2].section.as_deref(), Some("（二）社会领域改革"));
    assert_eq!(plan.sections.len(), 3);
    assert_eq!(
        plan.requirements,
        ["各牵头单位于3月底前报送实施方案，年底报送全年总结。"]
    );
    assert_eq!(plan.deadlines.work_plan, date(2015, 3, 31));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn unit_lines_wrapped_onto_the_next_line_are_joined() {
    let wrapped = SEED.replace(
        "区社工委、区发改局、区经促局、",
        "区社工委、\n区发改局、区经促局、\n",
    );
    let parsed = read(&wrapped);
    assert_items(&parsed, &SEED_ITEMS);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    // Items after the joined line keep their physical line numbers.
    assert_eq!(parsed.plan.items[4].line, 20);

    let doc = "某区2015年改革计划\n1.推进甲改革。\n牵头单位：区发改局\n配合单位：区财政局、\n区审计局、区统计局\n\
               2.推进乙改革。（牵头单位：区财政局；\n配合单位：区审计局）\n";
    let parsed = read(doc);
    assert_items(
        &parsed,
        &[
            (
                1,
                "推进甲改革",
                &["区发改局"],
                &["区财政局", "区审计局", "区统计局"],
                &[],
            ),
            (2, "推进乙改革", &["区财政局"], &["区审计局"], &[]),
        ],
    );
    assert_eq!(parsed.plan.items[1].line, 6);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

// ---- bad input ----

fn errors(result: Result<ParsedPlan, shared::plan_text::ParseError>) -> Vec<(usize, String)> {
    match result {
        Ok(parsed) => panic!("should not parse, got {:?}", parsed.summary()),
        Err(err) => {
            let shown = err.to_string();
            for e in &err.errors {
                assert!(
                    shown.contains(&format!("line {}: {}", e.line, e.message)),
                    "{shown}"
                );
            }
            err.errors
                .into_iter()
                .map(|e| (e.line, e.message))
                .collect()
        }
    }
}

#[test]
fn empty_documents_are_errors() {
    for doc in ["", "   \n\t\n\u{3000}\n", "\u{FEFF}"] {
        let errs = errors(parse(doc));
        assert_eq!(errs[0].0, 1);
        assert!(errs[0].1.contains("empty"), "{errs:?}");
    }
}

#[test]
fn a_document_without_items_is_an_error() {
    let errs = errors(parse(
        "盐田区2014年重点改革计划\n为深化改革，制定本计划。\n一、指导思想\n坚持改革。\n",
    ));
    assert!(errs[0].1.contains("no reform items"), "{errs:?}");
}

#[test]
fn an_item_without_a_unit_line_is_kept_with_a_warning() {
    let doc = SEED.replace("(区法院牵头,区委组织部〈编办〉配合)\n", "");
    let parsed = read(&doc);
    assert_eq!(parsed.plan.items.len(), 14);
    let item = &parsed.plan.items[6];
    assert_eq!(item.title, "区法院审判权运行机制和人员分类改革");
    assert!(item.lead_units.is_empty() && item.cooperating_units.is_empty());
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    assert_eq!(parsed.warnings[0].line, 22);
    assert!(
        parsed.warnings[0]
            .message
            .contains("item 7 has no unit line")
    );
    // The others are untouched.
    assert_eq!(parsed.plan.items[7].lead_units, ["区委组织部〈编办〉"]);
}

#[test]
fn a_document_whose_items_have_no_units_still_lists_them() {
    let parsed = read("某区改革计划\n1.推进甲改革。\n2.推进乙改革。\n");
    assert_eq!(parsed.plan.items.len(), 2);
    let lines: Vec<usize> = parsed.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [2, 3]);
}

#[test]
fn unbalanced_brackets_are_warned_about_by_line() {
    // A unit line that lost its closing parenthesis is still read.
    let doc = SEED.replace(
        "(区法院牵头,区委组织部〈编办〉配合)",
        "(区法院牵头,区委组织部〈编办〉配合",
    );
    let parsed = read(&doc);
    assert_eq!(parsed.plan.items[6].lead_units, ["区法院"]);
    assert_eq!(
        parsed.plan.items[6].cooperating_units,
        ["区委组织部〈编办〉"]
    );
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    assert_eq!(parsed.warnings[0].line, 23);
    assert!(parsed.warnings[0].message.contains("never closed"));
    // So is one that lost its opening parenthesis.
    let doc = SEED.replace(
        "(区法院牵头,区委组织部〈编办〉配合)",
        "区法院牵头,区委组织部〈编办〉配合)",
    );
    let parsed = read(&doc);
    assert_eq!(parsed.plan.items[6].lead_units, ["区法院"]);
    assert_eq!(parsed.warnings[0].line, 23);
    // In a body, the text stays as it is.
    let doc = SEED.replace("以区妇幼保健院(计生中心)", "以区妇幼保健院(计生中心");
    let parsed = read(&doc);
    assert!(
        parsed.plan.items[9]
            .body
            .contains("以区妇幼保健院(计生中心、区机关幼儿园")
    );
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    assert_eq!(parsed.warnings[0].line, 28);
}

#[test]
fn binary_junk_is_an_error_naming_the_line() {
    let mut junk = SEED.as_bytes().to_vec();
    let at = SEED.find("5.稳妥推进").expect("item 5 in seed");
    junk.splice(at..at, [0u8, 1, 2, 3, 0x7F]);
    let errs = errors(parse_bytes(&junk));
    assert_eq!(errs[0].0, 18);
    assert!(errs[0].1.contains("binary"), "{errs:?}");

    let mut invalid = SEED.as_bytes().to_vec();
    let at = SEED.find("三、改革工作要求").expect("section 三 in seed");
    invalid.splice(at..at, [0xC3, 0x28, 0xFF]);
    let errs = errors(parse_bytes(&invalid));
    assert_eq!(errs[0].0, 38);
    assert!(errs[0].1.contains("UTF-8"), "{errs:?}");

    let errs = errors(parse_bytes(&[0xFF, 0xFE, b'1', 0, b'.', 0]));
    assert!(errs[0].1.contains("UTF-16"), "{errs:?}");

    let errs = errors(parse_bytes(&[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
    ]));
    assert_eq!(errs[0].0, 1);

    let errs = errors(parse("一行\n二行\u{FFFD}\n"));
    assert_eq!(errs[0].0, 2);
}

// ---- size and time ----

fn parse_within(text: &str, limit: Duration) -> Result<ParsedPlan, shared::plan_text::ParseError> {
    let started = Instant::now();
    let result = parse(text);
    let took = started.elapsed();
    assert!(took < limit, "{} bytes took {took:?}", text.len());
    result
}

#[test]
fn a_megabyte_of_plan_reads_in_bounded_time() {
    // 1 MB of items: the seed's items over and over, numbered on.
    let mut doc = String::from("某区2014年改革计划\n二、改革项目\n");
    let items: Vec<&str> = SEED.lines().skip(9).take(28).collect();
    let mut n = 0;
    while doc.len() < 1_000_000 {
        for pair in items.chunks(2) {
            n += 1;
            let text = pair[0].split_once(['.', ' ']).map_or(pair[0], |(_, t)| t);
            doc.push_str(&format!("{n}.{text}\n{}\n", pair[1]));
        }
    }
    let parsed = parse_within(&doc, Duration::from_secs(20)).expect("parses");
    assert_eq!(parsed.plan.items.len(), n);
    assert_eq!(parsed.units.len(), 27);
}

#[test]
fn pathological_megabyte_lines_read_in_bounded_time() {
    let limit = Duration::from_secs(20);
    let unit_list = format!("1.改革。\n({}牵头)\n", "区发改局、".repeat(80_000));
    let parsed = parse_within(&unit_list, limit).expect("parses");
    assert_eq!(parsed.plan.items[0].lead_units, ["区发改局"]);
    let many_units: String = (0..60_000).map(|i| format!("区局{i}、")).collect();
    let parsed =
        parse_within(&format!("1.改革。\n({many_units}区局配合)\n"), limit).expect("parses");
    assert_eq!(parsed.units.len(), 60_001);
    let brackets = format!("1.改革。{}{}\n", "（".repeat(150_000), "）".repeat(150_000));
    let _ = parse_within(&brackets, limit);
    let colons = format!("1.改革。{}\n", "牵头单位：".repeat(100_000));
    let _ = parse_within(&colons, limit);
    let markers = "1.\n(一)\n①\n一、\n".repeat(60_000);
    let _ = parse_within(&markers, limit);
    let angle = format!(
        "1.改革。\n({}牵头)\n",
        "区委〈府〉办、区府办、区委办、".repeat(20_000)
    );
    let parsed = parse_within(&angle, limit).expect("parses");
    assert_eq!(parsed.units.len(), 1);
}

// ---- no panics ----

/// Edits that break documents the way copying and converting do.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    SwapLines { a: usize, b: usize },
    DuplicateLine { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let pieces = prop::sample::select(vec![
        "(",
        ")",
        "（",
        "）",
        "〈",
        "〉",
        "、",
        "，",
        ",",
        "：",
        "；",
        "\n",
        "\r\n",
        "牵头",
        "配合",
        "牵头单位：",
        "责任单位：",
        "参与单位：",
        "牵头区领导：",
        "等部门",
        "1.",
        "（一）",
        "一、",
        "。",
        "******",
        "\u{0}",
        "\u{FEFF}",
        "区发改局",
        "各街道办",
        "3月底前",
        "方案",
        "\u{3000}",
        "【",
        "】",
        "<",
        ">",
    ]);
    prop_oneof![
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), prop::collection::vec(pieces, 1..4)).prop_map(|(at, text)| Edit::Insert {
            at,
            text: text.concat()
        }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
        any::<usize>().prop_map(|at| Edit::DuplicateLine { at }),
    ]
}

fn char_boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(mut text: String, edit: &Edit) -> String {
    match edit {
        Edit::Delete { at, len } => {
            let start = char_boundary(&text, *at);
            let end = char_boundary(&text, start + len).max(start);
            text.replace_range(start..end, "");
            text
        }
        Edit::Insert { at, text: piece } => {
            let at = char_boundary(&text, *at);
            text.insert_str(at, piece);
            text
        }
        Edit::SwapLines { a, b } => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Edit::DuplicateLine { at } => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let i = at % lines.len();
            let line = lines[i];
            lines.insert(i, line);
            lines.join("\n")
        }
    }
}

/// What must hold for any document that parses.
fn check_invariants(text: &str, parsed: &ParsedPlan) {
    let line_count = text.split('\n').count();
    let mut numbers: Vec<u32> = parsed.plan.items.iter().map(|i| i.number).collect();
    assert!(!numbers.is_empty());
    shared::sorting::sort(&mut numbers);
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        parsed.plan.items.len(),
        "item numbers are unique"
    );
    for item in &parsed.plan.items {
        assert!((1..=line_count).contains(&item.line));
        for name in item.lead_units.iter().chain(&item.cooperating_units) {
            assert!(
                parsed.units.iter().any(|u| &u.name == name),
                "{name} not in directory"
            );
        }
    }
    for warning in &parsed.warnings {
        assert!((1..=line_count).contains(&warning.line), "{warning}");
    }
}

/// A few thousand cases by default; `PROPTEST_CASES` asks for more (or fewer).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        if let Ok(parsed) = parse(&text) {
            check_invariants(&text, &parsed);
        }
    }

    #[test]
    fn mutated_seed_never_panics(edits in prop::collection::vec(edit(), 1..8)) {
        let text = edits.iter().fold(SEED.to_owned(), apply);
        match parse(&text) {
            Ok(parsed) => check_invariants(&text, &parsed),
            Err(err) => prop_assert!(err.errors.iter().all(|e| e.line >= 1)),
        }
    }

    #[test]
    fn mutated_fixtures_never_panic(edits in prop::collection::vec(edit(), 1..6), which in 0usize..3) {
        let base = match which {
            0 => BAOAN.to_owned(),
            1 => String::from_utf8_lossy(LUOHU_CRLF).into_owned(),
            _ => String::from_utf8_lossy(GUANGMING_BOM).into_owned(),
        };
        let text = edits.iter().fold(base, apply);
        if let Ok(parsed) = parse(&text) {
            check_invariants(&text, &parsed);
        }
    }
}

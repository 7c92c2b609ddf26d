//! Ranking: cosine similarity between the question and each passage, plus boosts from facts —
//! facts of the chart (ten gods present, element excess or lack, the current luck period) and
//! topics named in the question (career, wealth…). Every boost is reported with the fact that
//! caused it, so an answer can say why a passage was chosen.
//!
//! Question topics are matched by keyword in both languages. This matters: the default model
//! (all-MiniLM-L6-v2) was trained on English, so for Korean questions its similarity carries
//! less meaning and the topic and chart facts do more of the work.
use crate::corpus::{Index, Lang};
use crate::model::dot;
use engine::chart::tables::TenGod;
use serde::Serialize;

/// Tag keys of the ten gods, in the engine's order (0 = 比肩 … 9 = 正印).
pub const TEN_GOD_KEYS: [&str; 10] = [
    "companion",
    "rob_wealth",
    "eating_god",
    "hurting_officer",
    "indirect_wealth",
    "direct_wealth",
    "seven_killings",
    "direct_officer",
    "indirect_resource",
    "direct_resource",
];
const TEN_GOD_EN: [&str; 10] = [
    "Companion",
    "Rob Wealth",
    "Eating God",
    "Hurting Officer",
    "Indirect Wealth",
    "Direct Wealth",
    "Seven Killings",
    "Direct Officer",
    "Indirect Resource",
    "Direct Resource",
];
/// Element keys in the engine's order.
pub const ELEMENT_KEYS: [&str; 5] = ["wood", "fire", "earth", "metal", "water"];
/// Life domains a question can be about.
pub const DOMAINS: [&str; 5] = ["career", "wealth", "relationships", "health", "study"];

const DOMAIN_WORDS: [(&str, &[&str]); 5] = [
    (
        "career",
        &[
            "career",
            "job",
            "work",
            "boss",
            "promotion",
            "company",
            "business",
            "profession",
            "employ",
            "직업",
            "직장",
            "일자리",
            "회사",
            "승진",
            "이직",
            "취업",
            "사업",
            "커리어",
            "상사",
            "진로",
            "퇴사",
            "창업",
            "업무",
            "공무원",
            "취직",
            "면접",
            "동료",
            "장사",
        ],
    ),
    (
        "wealth",
        &[
            "money",
            "wealth",
            "rich",
            "income",
            "invest",
            "salary",
            "finance",
            "debt",
            "saving",
            "fortune",
            "돈",
            "재물",
            "재산",
            "투자",
            "수입",
            "월급",
            "부자",
            "금전",
            "빚",
            "저축",
            "주식",
            "부동산",
            "대출",
            "연봉",
            "재테크",
            "코인",
            "집값",
            "금전운",
        ],
    ),
    (
        "relationships",
        &[
            "love",
            "partner",
            "marr",
            "relationship",
            "friend",
            "spouse",
            "dating",
            "family",
            "romance",
            "연애",
            "결혼",
            "배우자",
            "인연",
            "관계",
            "친구",
            "사랑",
            "남편",
            "아내",
            "가족",
            "애인",
            "남자친구",
            "여자친구",
            "이혼",
            "궁합",
            "부모",
            "자녀",
            "짝을",
            "소개팅",
        ],
    ),
    (
        "health",
        &[
            "health",
            "sick",
            "ill",
            "body",
            "sleep",
            "stress",
            "disease",
            "tired",
            "건강",
            "병",
            "몸",
            "수면",
            "스트레스",
            "질병",
            "피로",
            "잠을",
            "잠이",
            "숙면",
            "불면",
            "피곤",
            "아프",
            "아파",
            "통증",
            "소화",
            "다이어트",
            "체중",
            "수술",
            "우울",
        ],
    ),
    (
        "study",
        &[
            "study",
            "exam",
            "school",
            "learn",
            "degree",
            "test",
            "university",
            "college",
            "certif",
            "공부",
            "시험",
            "학업",
            "학교",
            "대학",
            "자격증",
            "배움",
            "합격",
            "수능",
            "입시",
            "유학",
            "성적",
            "학위",
            "고시",
            "대학원",
        ],
    ),
];
const LUCK_WORDS: &[&str] = &[
    "luck",
    "decade",
    "this year",
    "next year",
    "when",
    "timing",
    "future",
    "period",
    "대운",
    "세운",
    "올해",
    "내년",
    "언제",
    "시기",
    "앞으로",
    "운세",
];

/// One fact that can raise passages carrying `tag`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub tag: String,
    pub weight: f32,
    /// What in the chart or question this is, in words.
    pub reason: String,
}

impl Fact {
    fn new(tag: impl Into<String>, weight: f32, reason: impl Into<String>) -> Self {
        Self { tag: tag.into(), weight, reason: reason.into() }
    }
}

/// Facts read off a chart: ten gods present, element balance, the current luck period.
#[must_use]
pub fn chart_facts(chart: &engine::Chart) -> Vec<Fact> {
    let mut out = Vec::new();
    // Ten gods of the visible stems (day master excluded) and of each branch's main qi.
    let mut seen: [Vec<String>; 10] = Default::default();
    for p in &chart.pillars {
        if let Some(g) = p.stem.ten_god {
            seen[usize::from(g.0 % 10)].push(format!("{} stem", p.position));
        }
        seen[usize::from(p.branch.ten_god.0 % 10)].push(format!("{} branch", p.position));
    }
    for (i, places) in seen.iter().enumerate().filter(|(_, p)| !p.is_empty()) {
        let weight = if places.len() >= 2 { 0.08 } else { 0.04 };
        let name = TenGod(i as u8).name();
        out.push(Fact::new(
            format!("god:{}", TEN_GOD_KEYS[i]),
            weight,
            format!("{} {}({}) ×{} in {}", TEN_GOD_EN[i], name.hangul, name.hanja, places.len(), places.join(", ")),
        ));
    }
    // Element balance over the eight characters.
    let e = &chart.elements;
    let counts = [e.wood, e.fire, e.earth, e.metal, e.water];
    let mut unbalanced = false;
    for (i, &n) in counts.iter().enumerate() {
        let key = ELEMENT_KEYS[i];
        match n {
            0 => out.push(Fact::new(format!("element:{key}:weak"), 0.08, format!("no {key} among the eight characters"))),
            1 => out.push(Fact::new(format!("element:{key}:weak"), 0.04, format!("only one {key} among the eight characters"))),
            n if n >= 3 => out.push(Fact::new(
                format!("element:{key}:strong"),
                if n >= 4 { 0.08 } else { 0.05 },
                format!("{n} {key} among the eight characters"),
            )),
            _ => {}
        }
        unbalanced |= n == 0 || n >= 4;
    }
    if unbalanced {
        out.push(Fact::new(
            "balance",
            0.03,
            format!("element counts wood {} fire {} earth {} metal {} water {}", counts[0], counts[1], counts[2], counts[3], counts[4]),
        ));
    }
    // The luck period running in the requested year.
    if let (Some(luck), Some(yl)) = (&chart.luck, &chart.year_luck) {
        let dm = chart.day_master.index;
        if let Some(lp) = yl.luck_pillar.and_then(|i| luck.pillars.iter().find(|p| p.index == i)) {
            let g = TenGod::of(dm, lp.ganzhi.stem());
            let i = usize::from(g.0 % 10);
            out.push(Fact::new(
                format!("luck:god:{}", TEN_GOD_KEYS[i]),
                0.10,
                format!(
                    "{} luck period {} (from {}, age {}) in {}",
                    TEN_GOD_EN[i],
                    lp.ganzhi.hanja(),
                    lp.start_year,
                    lp.start_age,
                    yl.year
                ),
            ));
        }
        out.push(Fact::new("luck", 0.02, format!("luck pillars computed for {}", yl.year)));
        out.push(Fact::new("luck:year", 0.02, format!("yearly pillar {} for {}", yl.ganzhi.hanja(), yl.year)));
    }
    out
}

/// Topics named in the question.
#[must_use]
pub fn question_facts(question: &str) -> Vec<Fact> {
    let q = question.to_lowercase();
    let mut out = Vec::new();
    for (domain, words) in DOMAIN_WORDS {
        if let Some(w) = words.iter().find(|w| mentions(&q, w)) {
            out.push(Fact::new(format!("domain:{domain}"), 0.15, format!("the question mentions {w:?} ({domain})")));
        }
    }
    if let Some(w) = LUCK_WORDS.iter().find(|w| mentions(&q, w)) {
        out.push(Fact::new("luck", 0.06, format!("the question asks about timing ({w:?})")));
    }
    out
}

/// `word` occurs in `q`; an ASCII word must start a word ("ill" is not in "will"), a Korean one
/// may sit anywhere (particles attach to nouns: 재물운은, 시험에).
fn mentions(q: &str, word: &str) -> bool {
    if !word.is_ascii() {
        return q.contains(word);
    }
    q.match_indices(word).any(|(i, _)| q[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
}

/// One ranked passage.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub lang: &'static str,
    pub text: String,
    /// similarity + boost.
    pub score: f32,
    /// Cosine similarity of question and passage.
    pub similarity: f32,
    pub boost: f32,
    /// The facts whose tags this passage carries.
    pub facts: Vec<Fact>,
}

/// Rank the passages of `lang` (all languages if `None`) and return the best `top_k`.
#[must_use]
pub fn rank(index: &Index, question: &[f32], facts: &[Fact], lang: Option<Lang>, top_k: usize) -> Vec<Hit> {
    let mut scored: Vec<(usize, f32, f32, Vec<&Fact>)> = index
        .corpus
        .passages
        .iter()
        .enumerate()
        .filter(|(_, p)| lang.is_none_or(|l| p.lang == l))
        .map(|(i, p)| {
            let sim = dot(question, index.vector(i));
            let matched: Vec<&Fact> = facts.iter().filter(|f| p.tags.contains(&f.tag)).collect();
            let boost = matched.iter().map(|f| f.weight).sum::<f32>();
            (i, sim, boost, matched)
        })
        .collect();
    scored.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)).then(a.0.cmp(&b.0)));
    scored
        .into_iter()
        .take(top_k)
        .map(|(i, sim, boost, matched)| {
            let p = &index.corpus.passages[i];
            Hit {
                id: p.id.clone(),
                lang: p.lang.as_str(),
                text: p.text.clone(),
                score: sim + boost,
                similarity: sim,
                boost,
                facts: matched.into_iter().cloned().collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_topics_in_both_languages() {
        let tags = |q: &str| question_facts(q).into_iter().map(|f| f.tag).collect::<Vec<_>>();
        assert_eq!(tags("Will I get a promotion at my job?"), ["domain:career"]);
        assert_eq!(tags("올해 재물운은 어떤가요?"), ["domain:wealth", "luck"]);
        assert_eq!(tags("결혼은 언제 하나요?"), ["domain:relationships", "luck"]);
        assert_eq!(tags("시험 합격"), ["domain:study"]);
        assert_eq!(tags("요즘 잠을 잘 못 자요"), ["domain:health"]);
        assert_eq!(tags("주식 투자를 해도 될까요?"), ["domain:wealth"]);
        assert!(tags("hello").is_empty());
    }

    #[test]
    fn chart_facts_name_their_source() {
        let input = engine::BirthInput {
            year: 1990,
            month: 5,
            day: 15,
            hour: 14,
            minute: 30,
            second: 0,
            time: engine::TimeBasis::Offset(540),
            longitude: None,
            calendar: engine::Calendar::Solar,
            gender: Some(engine::Gender::Male),
        };
        let opts = engine::Options { luck_year: Some(2026), ..Default::default() };
        let chart = engine::Chart::compute(&input, &opts).unwrap();
        let facts = chart_facts(&chart);
        assert!(facts.iter().any(|f| f.tag.starts_with("god:") && f.reason.contains("stem")), "{facts:#?}");
        assert!(facts.iter().any(|f| f.tag.starts_with("luck:god:") && f.reason.contains("2026")), "{facts:#?}");
        let total: u8 =
            [chart.elements.wood, chart.elements.fire, chart.elements.earth, chart.elements.metal, chart.elements.water].iter().sum();
        assert_eq!(total, 8);
    }
}

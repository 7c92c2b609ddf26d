//! Fixed tables of the chart: ten gods (십신), hidden stems (지장간), the 12 life stages (12운성)
//! and nayin (납음). Each name has its Korean-usage hanja/hangul and, for the reference-compatible
//! CSV, the simplified spelling lunar-javascript prints.

use crate::ganzhi::{stem_element, stem_is_yang, GanZhi};
use crate::names::Name;
use serde::Serialize;

macro_rules! n {
    ($h:literal, $k:literal) => {
        Name { hanja: $h, hangul: $k }
    };
}

/// One of the ten gods, 0 = 比肩 … 9 = 正印 (pairs: same / other polarity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenGod(pub u8);

const TEN_GODS: [Name; 10] = [
    n!("比肩", "비견"),
    n!("劫財", "겁재"),
    n!("食神", "식신"),
    n!("傷官", "상관"),
    n!("偏財", "편재"),
    n!("正財", "정재"),
    n!("偏官", "편관"),
    n!("正官", "정관"),
    n!("偏印", "편인"),
    n!("正印", "정인"),
];
const TEN_GODS_REF: [&str; 10] = ["比肩", "劫财", "食神", "伤官", "偏财", "正财", "七杀", "正官", "偏印", "正印"];

impl TenGod {
    /// The ten god of stem `s` seen from day master `dm`: by the element relation (same,
    /// produced, controlled, controlling, producing) and whether the polarities match.
    #[must_use]
    pub fn of(dm: u8, s: u8) -> Self {
        let rel = (stem_element(s).index() + 5 - stem_element(dm).index()) % 5;
        Self(rel * 2 + u8::from(stem_is_yang(dm) != stem_is_yang(s)))
    }
    /// Hanja / hangul.
    #[must_use]
    pub fn name(self) -> Name {
        TEN_GODS[usize::from(self.0 % 10)]
    }
    /// lunar-javascript's simplified spelling (七杀 for 偏官).
    #[must_use]
    pub fn reference(self) -> &'static str {
        TEN_GODS_REF[usize::from(self.0 % 10)]
    }
}

impl Serialize for TenGod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.name().serialize(s)
    }
}

/// Hidden stems of each branch, main qi first (子 癸; 丑 己癸辛; 寅 甲丙戊; …).
pub const HIDDEN: [&[u8]; 12] =
    [&[9], &[5, 9, 7], &[0, 2, 4], &[1], &[4, 1, 9], &[2, 6, 4], &[3, 5], &[5, 3, 1], &[6, 8, 4], &[7], &[4, 7, 3], &[8, 0]];

/// A life stage (12운성), 0 = 長生 … 11 = 養.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage(pub u8);

const STAGES: [Name; 12] = [
    n!("長生", "장생"),
    n!("沐浴", "목욕"),
    n!("冠帶", "관대"),
    n!("建祿", "건록"),
    n!("帝旺", "제왕"),
    n!("衰", "쇠"),
    n!("病", "병"),
    n!("死", "사"),
    n!("墓", "묘"),
    n!("絶", "절"),
    n!("胎", "태"),
    n!("養", "양"),
];
const STAGES_REF: [&str; 12] = ["长生", "沐浴", "冠带", "临官", "帝旺", "衰", "病", "死", "墓", "绝", "胎", "养"];
/// Branch of 長生 for each stem (陽 stems run forward, 陰 stems backward).
const CHANG_SHENG: [u8; 10] = [11, 6, 2, 9, 2, 9, 5, 0, 8, 3];

impl Stage {
    /// The stage of stem `s` on branch `b`.
    #[must_use]
    pub fn of(s: u8, b: u8) -> Self {
        let start = CHANG_SHENG[usize::from(s % 10)];
        let i = if stem_is_yang(s) { (b % 12 + 12 - start) % 12 } else { (start + 12 - b % 12) % 12 };
        Self(i)
    }
    /// Hanja / hangul (臨官 is given its Korean name 建祿 / 건록).
    #[must_use]
    pub fn name(self) -> Name {
        STAGES[usize::from(self.0 % 12)]
    }
    /// lunar-javascript's simplified spelling.
    #[must_use]
    pub fn reference(self) -> &'static str {
        STAGES_REF[usize::from(self.0 % 12)]
    }
}

impl Serialize for Stage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.name().serialize(s)
    }
}

const NAYIN: [Name; 30] = [
    n!("海中金", "해중금"),
    n!("爐中火", "노중화"),
    n!("大林木", "대림목"),
    n!("路傍土", "노방토"),
    n!("劍鋒金", "검봉금"),
    n!("山頭火", "산두화"),
    n!("澗下水", "간하수"),
    n!("城頭土", "성두토"),
    n!("白蠟金", "백랍금"),
    n!("楊柳木", "양류목"),
    n!("泉中水", "천중수"),
    n!("屋上土", "옥상토"),
    n!("霹靂火", "벽력화"),
    n!("松柏木", "송백목"),
    n!("長流水", "장류수"),
    n!("沙中金", "사중금"),
    n!("山下火", "산하화"),
    n!("平地木", "평지목"),
    n!("壁上土", "벽상토"),
    n!("金箔金", "금박금"),
    n!("覆燈火", "복등화"),
    n!("天河水", "천하수"),
    n!("大驛土", "대역토"),
    n!("釵釧金", "차천금"),
    n!("桑柘木", "상자목"),
    n!("大溪水", "대계수"),
    n!("沙中土", "사중토"),
    n!("天上火", "천상화"),
    n!("石榴木", "석류목"),
    n!("大海水", "대해수"),
];
const NAYIN_REF: [&str; 30] = [
    "海中金",
    "炉中火",
    "大林木",
    "路旁土",
    "剑锋金",
    "山头火",
    "涧下水",
    "城头土",
    "白蜡金",
    "杨柳木",
    "泉中水",
    "屋上土",
    "霹雳火",
    "松柏木",
    "长流水",
    "沙中金",
    "山下火",
    "平地木",
    "壁上土",
    "金箔金",
    "覆灯火",
    "天河水",
    "大驿土",
    "钗钏金",
    "桑柘木",
    "大溪水",
    "沙中土",
    "天上火",
    "石榴木",
    "大海水",
];

/// Nayin (납음) of a sexagenary pillar (one name per consecutive pair).
#[must_use]
pub fn nayin(g: GanZhi) -> Name {
    NAYIN[usize::from(g.0 / 2)]
}

/// lunar-javascript's simplified spelling of the nayin.
#[must_use]
pub fn nayin_reference(g: GanZhi) -> &'static str {
    NAYIN_REF[usize::from(g.0 / 2)]
}

/// The two void branches (공망 / 旬空) of a pillar's decade (旬).
#[must_use]
pub fn void_branches(g: GanZhi) -> [u8; 2] {
    let first = g.0 - g.0 % 10; // the 甲 pillar opening the decade
    let b = first % 12;
    [(b + 10) % 12, (b + 11) % 12]
}

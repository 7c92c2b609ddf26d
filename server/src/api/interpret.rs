//! `POST /v1/interpret`: a question and a birth input in, ranked interpretation passages out.
//!
//! The shard parses and validates, computes the chart, and queues the question with the
//! process's inference service; a worker thread embeds it (batched with other shards'
//! questions) and the shard awaits the reply on its own event loop, within the request's
//! deadline. Shards never run the model. Transport-neutral: HTTP hands [`interpret`] the body's
//! JSON object, the WebSocket `interpret` message its own fields.
use super::input::{Fields, InputError};
use super::saju_req::SajuRequest;
use crate::http::{ApiError, MediaType, Serde};
use inference::corpus::Lang;
use inference::rank::{Fact, Hit};
use inference::service::{Service, Status, Unavailable};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FIELDS: &[&str] = &["question", "chart", "top_k", "lang"];
const MAX_QUESTION: usize = 2000;

/// Which passages to rank: the question's language (detected), one language, or all.
#[derive(Clone, Copy)]
enum LangSel {
    Auto,
    One(Lang),
    Any,
}

/// A validated interpret request.
pub(crate) struct Request {
    question: String,
    chart: SajuRequest,
    top_k: usize,
    lang: LangSel,
}

/// The chart facts an interpretation was ranked with.
#[derive(Serialize)]
pub(crate) struct ChartSummary {
    four_pillars: engine::FourPillars,
    day_master: engine::chart::StemInfo,
    elements: engine::chart::ElementCounts,
    year_luck: Option<engine::chart::luck::YearLuck>,
}

/// The answer of `/v1/interpret`.
#[derive(Serialize)]
pub(crate) struct Interpretation {
    question: String,
    lang: &'static str,
    ep: &'static str,
    chart: ChartSummary,
    facts: Vec<Fact>,
    passages: Vec<Hit>,
    elapsed_ms: f64,
}

/// The JSON object of an HTTP body (`application/json`, form type or none → 415 otherwise).
pub(crate) fn body_object(media: MediaType, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if !matches!(media, MediaType::Absent | MediaType::Json | MediaType::Form) {
        return Err(ApiError::media_type("send application/json"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(ApiError::bad_json("body must be a JSON object")),
        Err(e) => Err(ApiError::bad_json(format!("body is not valid JSON: {e}"))),
    }
}

/// Answer `{"question": "...", "chart": {…/v1/saju fields…}, "top_k": 5, "lang":
/// "auto"|"en"|"ko"|"any"}` within `budget` (the request's whole time budget).
pub(crate) async fn interpret(
    svc: Option<&Arc<Service>>,
    obj: Map<String, Value>,
    budget: Duration,
) -> Result<Serde<Interpretation>, ApiError> {
    let t0 = Instant::now();
    let deadline = t0 + budget;
    let req = parse(obj)?;
    let chart = super::saju::compute(&req.chart).map_err(|e| super::saju::engine_error(&e).in_object("chart"))?;
    let svc = svc.ok_or_else(|| ApiError::new(503, "inference_disabled", "inference was not started"))?;
    let rx = svc.submit(&req.question, deadline).map_err(|u| unavailable(&u))?;
    let vector = match shard::rt::timeout(deadline.saturating_duration_since(Instant::now()), rx).await {
        Ok(Ok(Ok(v))) => v,
        Err(_) | Ok(Ok(Err(inference::Error::Deadline))) => {
            return Err(ApiError::new(504, "deadline_exceeded", format!("no answer within {} ms", budget.as_millis())))
        }
        Ok(Ok(Err(e))) => return Err(ApiError::new(500, "inference_failed", e.to_string())),
        Ok(Err(_)) => return Err(unavailable(&Unavailable::ShuttingDown)),
    };
    let lang = match req.lang {
        LangSel::Auto => Some(Lang::detect(&req.question)),
        LangSel::One(l) => Some(l),
        LangSel::Any => None,
    };
    let mut facts = inference::rank::chart_facts(&chart);
    facts.extend(inference::rank::question_facts(&req.question));
    let passages = svc.rank(&vector, &facts, lang, req.top_k).map_err(|u| unavailable(&u))?;
    let ep = match svc.status() {
        Status::Ready { ep, .. } => ep.as_str(),
        _ => "none",
    };
    Ok(Serde(Interpretation {
        lang: lang.map_or("any", Lang::as_str),
        question: req.question,
        ep,
        chart: ChartSummary {
            four_pillars: chart.four_pillars,
            day_master: chart.day_master,
            elements: chart.elements,
            year_luck: chart.year_luck,
        },
        facts,
        passages,
        elapsed_ms: t0.elapsed().as_secs_f64() * 1e3,
    }))
}

fn unavailable(u: &Unavailable) -> ApiError {
    let (code, detail, retry) = match u {
        Unavailable::Loading => ("inference_loading", "the model is still loading".to_string(), true),
        Unavailable::Disabled(reason) => ("inference_disabled", reason.clone(), false),
        Unavailable::Overloaded => ("overloaded", "inference queue full".to_string(), true),
        Unavailable::ShuttingDown => ("shutting_down", "inference is shutting down".to_string(), false),
    };
    let e = ApiError::new(503, code, detail);
    if retry {
        e.retry_after(1)
    } else {
        e
    }
}

fn parse(mut obj: Map<String, Value>) -> Result<Request, InputError> {
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(InputError::field(k.clone(), format!("unknown field (expected one of {})", FIELDS.join(", "))));
    }
    let question = match obj.remove("question") {
        Some(serde_json::Value::String(q)) if !q.trim().is_empty() && q.len() <= MAX_QUESTION => q,
        Some(serde_json::Value::String(_)) => {
            return Err(InputError::field("question", format!("must be 1..={MAX_QUESTION} bytes of text")))
        }
        Some(_) => return Err(InputError::field("question", "must be a string")),
        None => return Err(InputError::field("question", "required")),
    };
    let top_k = match obj.remove("top_k") {
        None => 5,
        Some(v) => match v.as_u64() {
            Some(k @ 1..=20) => k as usize,
            _ => return Err(InputError::field("top_k", "must be an integer 1..=20")),
        },
    };
    let lang = match obj.remove("lang").as_ref().map(|v| v.as_str()) {
        None | Some(Some("auto")) => LangSel::Auto,
        Some(Some("en")) => LangSel::One(Lang::En),
        Some(Some("ko")) => LangSel::One(Lang::Ko),
        Some(Some("any")) => LangSel::Any,
        Some(_) => return Err(InputError::field("lang", "must be auto, en, ko or any")),
    };
    let mut chart_obj = match obj.remove("chart") {
        Some(serde_json::Value::Object(c)) => c,
        Some(_) => return Err(InputError::field("chart", "must be an object with the /v1/saju fields")),
        None => return Err(InputError::field("chart", "required: the /v1/saju fields, e.g. {\"datetime\": …, \"offset\": 540}")),
    };
    // The luck period running now is a chart fact; default the luck year to this year.
    chart_obj.entry("luck_year").or_insert_with(|| current_year().into());
    let chart = SajuRequest::from_fields(&Fields::from_map(&chart_obj)).map_err(|e| match e {
        InputError::Field { field, detail } => InputError::field(format!("chart.{field}"), detail),
        other => other,
    })?;
    Ok(Request { question, chart, top_k, lang })
}

/// The current Gregorian year (UTC).
fn current_year() -> i64 {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    i64::from(engine::calendar::civil_from_days(days).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(body: &str) -> Result<Request, InputError> {
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(o)) => parse(o),
            _ => Err(InputError::Syntax("not an object".into())),
        }
    }

    fn field(body: &str) -> String {
        match parse_text(body) {
            Err(InputError::Field { field, .. }) => field.into_owned(),
            Err(e) => format!("syntax: {e}"),
            Ok(_) => "ok".into(),
        }
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        let chart = r#""chart":{"datetime":"1990-05-15T14:30:00","offset":540}"#;
        assert_eq!(field(&format!(r#"{{"question":"q",{chart}}}"#)), "ok");
        assert_eq!(field(&format!(r#"{{"question":"q",{chart},"lang":"ko","top_k":20}}"#)), "ok");
        assert_eq!(field(&format!(r#"{{{chart}}}"#)), "question");
        assert_eq!(field(&format!(r#"{{"question":"  ",{chart}}}"#)), "question");
        assert_eq!(field(&format!(r#"{{"question":7,{chart}}}"#)), "question");
        assert_eq!(field(r#"{"question":"q"}"#), "chart");
        assert_eq!(field(r#"{"question":"q","chart":[1]}"#), "chart");
        assert_eq!(field(r#"{"question":"q","chart":{"offset":540}}"#), "chart.datetime");
        assert_eq!(field(r#"{"question":"q","chart":{"datetime":"1990-05-15T14:30","offset":540,"hue":1}}"#), "chart.hue");
        assert_eq!(field(&format!(r#"{{"question":"q",{chart},"top_k":0}}"#)), "top_k");
        assert_eq!(field(&format!(r#"{{"question":"q",{chart},"lang":"fr"}}"#)), "lang");
        assert_eq!(field(&format!(r#"{{"question":"q",{chart},"extra":1}}"#)), "extra");
        assert!(field("[1]").starts_with("syntax"));
        let r = parse_text(&format!(r#"{{"question":"q",{chart}}}"#)).ok().unwrap();
        assert_eq!(r.chart.luck_year, Some(current_year() as i32), "luck_year defaults to this year");
        assert!((2025..2200).contains(&current_year()));
    }
}

//! `POST /v1/interpret`: a question and a birth input in, ranked interpretation passages out.
//!
//! The shard parses and validates, computes the chart, and queues the question with the
//! process's inference service; a worker thread embeds it (batched with other shards'
//! questions) and the shard awaits the reply on its own event loop, within the request's
//! deadline. Shards never run the model. Transport-neutral: the WebSocket `interpret` message
//! can call [`post`] with the same body.
use super::input::{Fields, InputError};
use super::saju_req::SajuRequest;
use crate::router::{Resp, JSON};
use inference::corpus::Lang;
use inference::service::{Service, Status, Unavailable};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

static SERVICE: OnceLock<Arc<Service>> = OnceLock::new();

/// Start loading the model in the background (once per process, before the shards start).
pub(crate) fn start(settings: inference::service::Settings) {
    SERVICE.get_or_init(|| Service::start(settings));
}

/// After the shards have stopped: answer what is queued, stop the workers.
pub(crate) fn shutdown() {
    if let Some(s) = SERVICE.get() {
        s.shutdown();
    }
}

/// The state for `/readyz`, as a JSON value.
pub(crate) fn readiness() -> serde_json::Value {
    match SERVICE.get().map(|s| s.status()) {
        None => serde_json::json!({ "state": "disabled", "reason": "not started" }),
        Some(Status::Loading) => serde_json::json!({ "state": "loading" }),
        Some(Status::Ready { ep, cuda_error }) => {
            let mut v = serde_json::json!({ "state": "ready", "ep": ep.as_str() });
            if let Some(e) = cuda_error {
                v["cuda_unavailable"] = e.into();
            }
            v
        }
        Some(Status::Disabled(reason)) => serde_json::json!({ "state": "disabled", "reason": reason }),
    }
}

/// Prometheus lines for `/metrics`.
pub(crate) fn metrics() -> String {
    SERVICE.get().map(|s| s.metrics()).unwrap_or_default()
}

const FIELDS: &[&str] = &["question", "chart", "top_k", "lang"];
const MAX_QUESTION: usize = 2000;

/// Which passages to rank: the question's language (detected), one language, or all.
#[derive(Clone, Copy)]
enum LangSel {
    Auto,
    One(Lang),
    Any,
}

struct Request {
    question: String,
    chart: SajuRequest,
    top_k: usize,
    lang: LangSel,
}

/// `POST /v1/interpret` with `{"question": "...", "chart": {…/v1/saju fields…}, "top_k": 5,
/// "lang": "auto"|"en"|"ko"|"any"}`. `deadline` is the request's whole time budget.
pub(crate) async fn post(content_type: Option<&[u8]>, body: &[u8], budget: Duration) -> Resp {
    let t0 = Instant::now();
    let deadline = t0 + budget;
    let ct = content_type.map(|ct| ct.split(|b| *b == b';').next().unwrap_or(b"").trim_ascii().to_ascii_lowercase());
    if !matches!(ct.as_deref(), None | Some(b"application/json" | b"application/x-www-form-urlencoded")) {
        return Resp::error(415, "unsupported_media_type", "send application/json", None);
    }
    let req = match parse(body) {
        Ok(r) => r,
        Err(e) => return super::saju::input_error(&e),
    };
    let chart = match super::saju::chart(&req.chart) {
        Ok(c) => c,
        Err(e) => return Resp::error(422, "invalid_input", &e.to_string(), Some(&format!("chart.{}", e.field()))),
    };
    let Some(svc) = SERVICE.get() else {
        return Resp::error(503, "inference_disabled", "inference was not started", None);
    };
    let rx = match svc.submit(&req.question, deadline) {
        Ok(rx) => rx,
        Err(u) => return unavailable(&u),
    };
    let vector = match monoio::time::timeout(deadline.saturating_duration_since(Instant::now()), rx).await {
        Ok(Ok(Ok(v))) => v,
        Err(_) | Ok(Ok(Err(inference::Error::Deadline))) => {
            return Resp::error(504, "deadline_exceeded", &format!("no answer within {} ms", budget.as_millis()), None)
        }
        Ok(Ok(Err(e))) => return Resp::error(500, "inference_failed", &e.to_string(), None),
        Ok(Err(_)) => return unavailable(&Unavailable::ShuttingDown),
    };
    let lang = match req.lang {
        LangSel::Auto => Some(Lang::detect(&req.question)),
        LangSel::One(l) => Some(l),
        LangSel::Any => None,
    };
    let mut facts = inference::rank::chart_facts(&chart);
    facts.extend(inference::rank::question_facts(&req.question));
    let hits = match svc.rank(&vector, &facts, lang, req.top_k) {
        Ok(h) => h,
        Err(u) => return unavailable(&u),
    };
    let ep = match svc.status() {
        Status::Ready { ep, .. } => ep.as_str(),
        _ => "none",
    };
    let out = serde_json::json!({
        "question": req.question,
        "lang": lang.map_or("any", Lang::as_str),
        "ep": ep,
        "chart": {
            "four_pillars": chart.four_pillars,
            "day_master": chart.day_master,
            "elements": chart.elements,
            "year_luck": chart.year_luck,
        },
        "facts": facts,
        "passages": hits,
        "elapsed_ms": t0.elapsed().as_secs_f64() * 1e3,
    });
    match serde_json::to_vec(&out) {
        Ok(b) => Resp::new(200, JSON, b),
        Err(e) => Resp::error(500, "internal", &format!("serialize: {e}"), None),
    }
}

fn unavailable(u: &Unavailable) -> Resp {
    let (code, detail, retry) = match u {
        Unavailable::Loading => ("inference_loading", "the model is still loading".to_string(), true),
        Unavailable::Disabled(reason) => ("inference_disabled", reason.clone(), false),
        Unavailable::Overloaded => ("overloaded", "inference queue full".to_string(), true),
        Unavailable::ShuttingDown => ("shutting_down", "inference is shutting down".to_string(), false),
    };
    Resp { retry_after: retry.then_some(1), ..Resp::error(503, code, &detail, None) }
}

fn parse(body: &[u8]) -> Result<Request, InputError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| InputError::Syntax(format!("body is not valid JSON: {e}")))?;
    let serde_json::Value::Object(mut obj) = v else {
        return Err(InputError::Syntax("body must be a JSON object".into()));
    };
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
    let mut bytes = serde_json::to_vec(&chart_obj).map_err(|e| InputError::Syntax(e.to_string()))?;
    let chart = Fields::from_json(&mut bytes).and_then(|f| SajuRequest::from_fields(&f)).map_err(|e| match e {
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

    fn field(body: &str) -> String {
        match parse(body.as_bytes()) {
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
        let r = parse(format!(r#"{{"question":"q",{chart}}}"#).as_bytes()).ok().unwrap();
        assert_eq!(r.chart.luck_year, Some(current_year() as i32), "luck_year defaults to this year");
        assert!((2025..2200).contains(&current_year()));
    }
}

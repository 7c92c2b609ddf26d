//! `/v1/saju`: validate the request, compute the chart with the engine, answer JSON.
use super::input::{Fields, InputError};
use super::saju_req::{SajuRequest, Tz};
use crate::router::{Resp, JSON};

/// `GET /v1/saju?datetime=…&offset=…`
pub(crate) fn get(query: &str) -> Resp {
    match Fields::from_query(query).and_then(|f| SajuRequest::from_fields(&f)) {
        Ok(r) => compute(&r),
        Err(e) => input_error(&e),
    }
}

/// `POST /v1/saju`: a JSON object (`application/json`, or no type), or form fields
/// (`application/x-www-form-urlencoded`, named like the query). A JSON object sent with the
/// form type — what `curl -d '{…}'` does — is read as JSON. Other types → 415.
pub(crate) fn post(content_type: Option<&[u8]>, body: &[u8]) -> Resp {
    let ct = content_type.map(|ct| ct.split(|b| *b == b';').next().unwrap_or(b"").trim_ascii().to_ascii_lowercase());
    let looks_json = body.trim_ascii_start().first() == Some(&b'{');
    let form = match ct.as_deref() {
        None | Some(b"application/json") => false,
        Some(b"application/x-www-form-urlencoded") => !looks_json,
        Some(_) => return Resp::error(415, "unsupported_media_type", "send application/json", None),
    };
    let parsed = if form {
        match std::str::from_utf8(body) {
            Ok(text) => Fields::from_query(text).and_then(|f| SajuRequest::from_fields(&f)),
            Err(_) => Err(InputError::Syntax("form body is not UTF-8".into())),
        }
    } else {
        let mut scratch = body.to_vec();
        Fields::from_json(&mut scratch).and_then(|f| SajuRequest::from_fields(&f))
    };
    match parsed {
        Ok(r) => compute(&r),
        Err(e) => input_error(&e),
    }
}

pub(crate) fn input_error(e: &InputError) -> Resp {
    match e {
        InputError::Field { field, detail } => Resp::error(422, "invalid_input", detail, Some(field)),
        InputError::Syntax(d) => Resp::error(400, "bad_json", d, None),
    }
}

/// Compute the chart; engine errors name the input field (→ 422).
pub(crate) fn compute(r: &SajuRequest) -> Resp {
    match chart(r) {
        Ok(c) => match simd_json::to_vec(&c) {
            Ok(body) => Resp::new(200, JSON, body),
            Err(e) => Resp::error(500, "internal", &format!("serialize: {e}"), None),
        },
        Err(e) => Resp::error(422, "invalid_input", &e.to_string(), Some(e.field())),
    }
}

/// The engine call behind every transport's `chart` request.
pub(crate) fn chart(r: &SajuRequest) -> Result<engine::Chart, engine::EngineError> {
    let (input, opts) = engine_input(r)?;
    engine::Chart::compute(&input, &opts)
}

/// A request as the engine's input and options (enum-valued strings parsed here).
pub(crate) fn engine_input(r: &SajuRequest) -> Result<(engine::BirthInput, engine::Options), engine::EngineError> {
    let time = match &r.tz {
        Tz::Offset(m) => engine::TimeBasis::Offset(*m),
        Tz::Zone(z) => engine::TimeBasis::Zone(z.parse()?),
    };
    let input = engine::BirthInput {
        year: r.year,
        month: r.month,
        day: r.day,
        hour: r.hour,
        minute: r.minute,
        second: r.second,
        time,
        longitude: r.lon,
        calendar: if r.lunar { engine::Calendar::Lunar { leap: r.leap } } else { engine::Calendar::Solar },
        gender: r.gender.as_deref().map(str::parse).transpose()?,
    };
    let mut opts = engine::Options { luck_year: r.luck_year, ..Default::default() };
    if let Some(z) = &r.zi {
        opts.zi = z.parse()?;
    }
    if let Some(s) = &r.solar_time {
        opts.solar_time = s.parse()?;
    }
    Ok((input, opts))
}

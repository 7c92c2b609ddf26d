//! `/v1/saju`: decode the request (query, JSON or form), compute the chart with the engine.
//! Runtime-free; every transport renders the typed answer its own way.
use super::chart_json::ChartJson;
use super::input::{Fields, InputError};
use super::saju_req::SajuRequest;
use crate::http::{ApiError, MediaType};

/// An engine error as an API error: 422 naming the input field it is about.
pub(crate) fn engine_error(e: &engine::EngineError) -> ApiError {
    ApiError::field(e.field(), e.to_string())
}

/// The request of `GET /v1/saju?datetime=…&offset=…`.
pub(crate) fn from_query(query: &str) -> Result<SajuRequest, ApiError> {
    Ok(Fields::from_query(query).and_then(|f| SajuRequest::from_fields(&f))?)
}

/// The request of `POST /v1/saju`: a JSON object (`application/json`, or no type), or form
/// fields (`application/x-www-form-urlencoded`, named like the query). A JSON object sent with
/// the form type — what `curl -d '{…}'` does — is read as JSON. Other types → 415.
pub(crate) fn from_body(media: MediaType, body: &[u8]) -> Result<SajuRequest, ApiError> {
    let looks_json = body.trim_ascii_start().first() == Some(&b'{');
    let form = match media {
        MediaType::Absent | MediaType::Json => false,
        MediaType::Form => !looks_json,
        _ => return Err(ApiError::media_type("send application/json")),
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
    Ok(parsed?)
}

/// The chart of a request; engine errors name the input field (→ 422).
pub(crate) fn chart(r: &SajuRequest) -> Result<ChartJson, ApiError> {
    compute(r).map(ChartJson).map_err(|e| engine_error(&e))
}

/// The engine call behind every transport's chart.
pub(crate) fn compute(r: &SajuRequest) -> Result<engine::Chart, engine::EngineError> {
    let (input, opts) = r.to_engine()?;
    engine::Chart::compute(&input, &opts)
}

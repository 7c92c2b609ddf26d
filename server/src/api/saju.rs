//! `/v1/saju`: validate the request, compute the chart with the engine, answer JSON.
use super::input::{Fields, InputError};
use super::saju_req::SajuRequest;
use crate::router::Resp;

/// `GET /v1/saju?datetime=…&offset=…`
pub(crate) fn get(query: &str) -> Resp {
    match Fields::from_query(query).and_then(|f| SajuRequest::from_fields(&f)) {
        Ok(r) => compute(&r),
        Err(e) => input_error(&e),
    }
}

/// `POST /v1/saju` with a JSON object body.
pub(crate) fn post(content_type: Option<&[u8]>, body: &[u8]) -> Resp {
    if let Some(ct) = content_type {
        let ct = ct.split(|b| *b == b';').next().unwrap_or(b"").trim_ascii();
        if !ct.eq_ignore_ascii_case(b"application/json") {
            return Resp::error(415, "unsupported_media_type", "send application/json", None);
        }
    }
    let mut scratch = body.to_vec();
    match Fields::from_json(&mut scratch).and_then(|f| SajuRequest::from_fields(&f)) {
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

fn compute(_r: &SajuRequest) -> Resp {
    Resp::error(501, "not_implemented", "the engine is being integrated", None)
}

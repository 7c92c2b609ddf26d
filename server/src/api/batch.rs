//! `POST /v1/saju/batch`: many `/v1/saju` inputs (same fields) → their four pillars, computed
//! with one call of the engine's batch kernel.
//!
//! Body: a JSON array of objects (`application/json`), or NDJSON, one object per line
//! (`application/x-ndjson`; blank lines skipped). Without a content type the first byte
//! decides (`[` → array). At most `batch_max_items` items (→ 413 `too_many_items`). A body that
//! is not JSON at all → 400. Each item succeeds or fails on its own: the answer is 200 with
//! `results[i]` either `{"index", "four_pillars"}` or `{"index", "error", "field"}` (`field` is
//! null when the item is not a JSON object). `?format=compact` answers `{"index", "pillars":
//! [year, month, day, hour]}` (sexagenary indices, 0 = 甲子) instead of the named pillars —
//! the names are most of the cost of a full answer.
use super::input::{json_error, Fields, InputError};
use super::saju_req::SajuRequest;
use crate::http::{ApiError, MediaType, Serde};
use serde::Serialize;

/// The answer: every item's result, in order.
#[derive(Serialize)]
pub(crate) struct Out {
    count: usize,
    errors: usize,
    kernel: &'static str,
    results: Vec<Item>,
}

/// One item's result.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Item {
    Ok {
        index: usize,
        four_pillars: engine::FourPillars,
    },
    /// `?format=compact`: the four sexagenary indices (0 = 甲子) year, month, day, hour.
    Compact {
        index: usize,
        pillars: [u8; 4],
    },
    Err {
        index: usize,
        error: String,
        field: Option<String>,
    },
}

/// Why one item was rejected.
enum ItemError {
    Input(InputError),
    Engine(engine::EngineError),
}

fn parse_item(f: Result<Fields<'_>, InputError>) -> Result<(engine::BirthInput, engine::Options), ItemError> {
    let req = f.and_then(|f| SajuRequest::from_fields(&f)).map_err(ItemError::Input)?;
    req.to_engine().map_err(ItemError::Engine)
}

/// `POST /v1/saju/batch[?format=compact]`.
pub(crate) fn batch(media: MediaType, query: &str, body: &[u8], max_items: usize) -> Result<Serde<Out>, ApiError> {
    let compact = match query {
        "" | "format=full" => false,
        "format=compact" => true,
        _ => return Err(ApiError::field("format", "the only query is format=full or format=compact")),
    };
    let array = match media {
        MediaType::Json => true,
        MediaType::Ndjson => false,
        MediaType::Absent => body.trim_ascii_start().first() == Some(&b'['),
        _ => return Err(ApiError::media_type("send application/json or application/x-ndjson")),
    };
    let too_many = |n: usize| ApiError::new(413, "too_many_items", format!("{n} items; at most {max_items} per batch"));
    let mut parsed: Vec<Result<(engine::BirthInput, engine::Options), ItemError>> = Vec::new();
    if array {
        let mut scratch = body.to_vec();
        let v = simd_json::to_borrowed_value(&mut scratch).map_err(|e| ApiError::bad_json(json_error(&e)))?;
        let simd_json::BorrowedValue::Array(items) = v else {
            return Err(ApiError::bad_json("body must be a JSON array of objects"));
        };
        if items.len() > max_items {
            return Err(too_many(items.len()));
        }
        parsed.extend(items.into_iter().map(|v| parse_item(Fields::from_value(v))));
    } else {
        let lines: Vec<&[u8]> = body.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()).collect();
        if lines.len() > max_items {
            return Err(too_many(lines.len()));
        }
        for line in lines {
            let mut scratch = line.to_vec();
            parsed.push(parse_item(Fields::from_json(&mut scratch)));
        }
    }
    let kernel = engine::arch::active();
    let ok: Vec<(engine::BirthInput, engine::Options)> = parsed.iter().filter_map(|p| p.as_ref().ok().copied()).collect();
    let mut pillars = engine::batch::four_pillars_each(kernel, &ok).into_iter();
    let results: Vec<Item> = parsed
        .into_iter()
        .enumerate()
        .map(|(index, p)| {
            let r = match p {
                Ok(_) => {
                    pillars.next().unwrap_or_else(|| Err(engine::EngineError::OutOfRange("internal".into()))).map_err(ItemError::Engine)
                }
                Err(e) => Err(e),
            };
            match r {
                Ok(p) if compact => Item::Compact { index, pillars: [p.year.0, p.month.0, p.day.0, p.hour.0] },
                Ok(four_pillars) => Item::Ok { index, four_pillars },
                Err(ItemError::Engine(e)) => Item::Err { index, error: e.to_string(), field: Some(e.field().to_owned()) },
                Err(ItemError::Input(InputError::Field { field, detail })) => {
                    Item::Err { index, error: detail, field: Some(field.into_owned()) }
                }
                Err(ItemError::Input(InputError::Syntax(d))) => Item::Err { index, error: d, field: None },
            }
        })
        .collect();
    let errors = results.iter().filter(|r| matches!(r, Item::Err { .. })).count();
    Ok(Serde(Out { count: results.len(), errors, kernel: kernel.name(), results }))
}

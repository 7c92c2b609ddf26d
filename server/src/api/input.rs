//! Raw request fields, from a JSON object or a URL query string, with typed accessors that say
//! which field is wrong. The saju request schema is built on top of this in `api::saju`.
use std::borrow::Cow;
use std::fmt;

/// A validation failure on one named field (→ 422), or a body that is not JSON at all (→ 400).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InputError {
    Field { field: Cow<'static, str>, detail: String },
    Syntax(String),
}

impl InputError {
    pub(crate) fn field(field: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::Field { field: field.into(), detail: detail.into() }
    }
}

impl From<InputError> for crate::http::ApiError {
    /// A field error is 422 `invalid_input` naming the field; a body that is not JSON is 400.
    fn from(e: InputError) -> Self {
        match e {
            InputError::Field { field, detail } => Self::field(field, detail),
            InputError::Syntax(d) => Self::bad_json(d),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field { field, detail } => write!(f, "{field}: {detail}"),
            Self::Syntax(d) => write!(f, "{d}"),
        }
    }
}

/// One raw value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Other,
}

/// The fields of one request, in order of appearance; later duplicates are an error.
#[derive(Debug, Default)]
pub(crate) struct Fields<'a> {
    items: Vec<(Cow<'a, str>, Raw<'a>)>,
}

impl<'a> Fields<'a> {
    fn push(&mut self, key: Cow<'a, str>, val: Raw<'a>) -> Result<(), InputError> {
        if self.items.iter().any(|(k, _)| *k == key) {
            return Err(InputError::field(key.into_owned(), "given more than once"));
        }
        self.items.push((key, val));
        Ok(())
    }

    /// Parse a JSON object body (simd-json; the buffer is used as scratch space).
    pub(crate) fn from_json(body: &'a mut [u8]) -> Result<Self, InputError> {
        let v = simd_json::to_borrowed_value(body).map_err(|e| InputError::Syntax(json_error(&e)))?;
        Self::from_value(v)
    }

    /// The fields of one parsed JSON object (an element of a batch, a nested object).
    pub(crate) fn from_value(v: simd_json::BorrowedValue<'a>) -> Result<Self, InputError> {
        use simd_json::prelude::*;
        use simd_json::BorrowedValue as V;
        let V::Object(obj) = v else {
            return Err(InputError::Syntax("body must be a JSON object".into()));
        };
        let mut f = Self::default();
        for (k, v) in obj.into_iter() {
            let raw = match v {
                V::String(s) => Raw::Str(s),
                V::Static(st) => {
                    if st.is_null() {
                        Raw::Null
                    } else if let Some(b) = st.as_bool() {
                        Raw::Bool(b)
                    } else if let Some(i) = st.as_i64() {
                        Raw::Int(i)
                    } else if let Some(x) = st.as_f64() {
                        Raw::Float(x)
                    } else {
                        Raw::Other
                    }
                }
                _ => Raw::Other,
            };
            f.push(k, raw)?;
        }
        Ok(f)
    }

    /// The fields of a parsed serde JSON object (a WebSocket message, a nested `chart`).
    pub(crate) fn from_map(obj: &'a serde_json::Map<String, serde_json::Value>) -> Self {
        use serde_json::Value as V;
        let items = obj
            .iter()
            .map(|(k, v)| {
                let raw = match v {
                    V::String(s) => Raw::Str(Cow::Borrowed(s)),
                    V::Null => Raw::Null,
                    V::Bool(b) => Raw::Bool(*b),
                    V::Number(n) => match n.as_i64() {
                        Some(i) => Raw::Int(i),
                        None => n.as_f64().map_or(Raw::Other, Raw::Float),
                    },
                    _ => Raw::Other,
                };
                (Cow::Borrowed(k.as_str()), raw)
            })
            .collect();
        Self { items }
    }

    /// Parse a URL query string (`a=1&b=x%3Ay`; `+` is a space).
    pub(crate) fn from_query(q: &'a str) -> Result<Self, InputError> {
        let mut f = Self::default();
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k).ok_or_else(|| InputError::Syntax("bad percent-encoding in query".into()))?;
            let v = percent_decode(v).ok_or_else(|| InputError::field(k.clone().into_owned(), "bad percent-encoding"))?;
            f.push(k, Raw::Str(v))?;
        }
        Ok(f)
    }

    /// Reject any field not in `known` (a typo must not be silently ignored).
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), InputError> {
        match self.items.iter().find(|(k, _)| !known.contains(&k.as_ref())) {
            Some((k, _)) => Err(InputError::field(k.to_string(), format!("unknown field; known: {}", known.join(", ")))),
            None => Ok(()),
        }
    }

    fn get(&self, key: &str) -> Option<&Raw<'a>> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| **v != Raw::Null)
    }

    pub(crate) fn str(&self, key: &'static str) -> Result<Option<&str>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Raw::Str(s)) => Ok(Some(s)),
            Some(_) => Err(InputError::field(key, "must be a string")),
        }
    }

    pub(crate) fn int(&self, key: &'static str) -> Result<Option<i64>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Raw::Int(i)) => Ok(Some(*i)),
            Some(Raw::Str(s)) => s.trim().parse().map(Some).map_err(|_| InputError::field(key, "must be an integer")),
            Some(_) => Err(InputError::field(key, "must be an integer")),
        }
    }

    pub(crate) fn float(&self, key: &'static str) -> Result<Option<f64>, InputError> {
        let x = match self.get(key) {
            None => return Ok(None),
            Some(Raw::Int(i)) => *i as f64,
            Some(Raw::Float(x)) => *x,
            Some(Raw::Str(s)) => s.trim().parse().map_err(|_| InputError::field(key, "must be a number"))?,
            Some(_) => return Err(InputError::field(key, "must be a number")),
        };
        if x.is_finite() {
            Ok(Some(x))
        } else {
            Err(InputError::field(key, "must be a finite number"))
        }
    }

    pub(crate) fn bool(&self, key: &'static str) -> Result<Option<bool>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Raw::Bool(b)) => Ok(Some(*b)),
            Some(Raw::Str(s)) => match s.as_ref() {
                "true" | "1" | "" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(InputError::field(key, "must be true or false")),
            },
            Some(_) => Err(InputError::field(key, "must be true or false")),
        }
    }
}

/// A JSON syntax error in words, without the parser's internal names (simd-json's errors read
/// like `InternalError(TapeError) at character 0`).
pub(crate) fn json_error(e: &simd_json::Error) -> String {
    use simd_json::ErrorType as T;
    let what = match e.error() {
        T::Eof => "it ends early",
        T::TrailingData => "there is more after the value",
        T::InvalidEscape | T::InvalidUnicodeEscape | T::InvalidUnicodeCodepoint | T::UnterminatedString => "a string is not valid",
        T::InvalidNumber | T::InvalidExponent => "a number is not valid",
        _ => "it is not valid JSON",
    };
    format!("body is not valid JSON: {what} (near byte {})", e.index())
}

fn percent_decode(s: &str) -> Option<Cow<'_, str>> {
    if !s.contains(['%', '+']) {
        return Some(Cow::Borrowed(s));
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_and_types() {
        let mut body = br#"{"datetime":"1990-05-15T14:30:00","offset":540,"lon":126.98,"lunar":false,"zone":null}"#.to_vec();
        let f = Fields::from_json(&mut body).unwrap();
        assert_eq!(f.str("datetime").unwrap(), Some("1990-05-15T14:30:00"));
        assert_eq!(f.int("offset").unwrap(), Some(540));
        assert_eq!(f.float("lon").unwrap(), Some(126.98));
        assert_eq!(f.bool("lunar").unwrap(), Some(false));
        assert_eq!(f.str("zone").unwrap(), None, "null is absent");
        assert!(f.int("datetime").is_err());
        assert!(f.only(&["datetime", "offset", "lon"]).is_err());
    }

    #[test]
    fn serde_maps_read_like_json_bodies() {
        let text = r#"{"datetime":"1990-05-15T14:30:00","offset":540,"lon":126.98,"lunar":false,"zone":null,"x":[1]}"#;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).unwrap();
        let f = Fields::from_map(&map);
        let mut body = text.as_bytes().to_vec();
        let g = Fields::from_json(&mut body).unwrap();
        for k in ["datetime", "zone"] {
            assert_eq!(f.str(k).unwrap(), g.str(k).unwrap());
        }
        assert_eq!((f.int("offset").unwrap(), f.float("lon").unwrap(), f.bool("lunar").unwrap()), (Some(540), Some(126.98), Some(false)));
        assert!(f.str("x").is_err() && g.str("x").is_err());
    }

    #[test]
    fn json_errors() {
        for bad in [&b"[1,2]"[..], b"{", b"", b"{\"a\":1,\"a\":2}", b"nul"] {
            let mut v = bad.to_vec();
            assert!(Fields::from_json(&mut v).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn query_decoding() {
        let f = Fields::from_query("datetime=1990-05-15T14%3A30%3A00&zone=Asia%2FSeoul&lunar&x=a+b").unwrap();
        assert_eq!(f.str("datetime").unwrap(), Some("1990-05-15T14:30:00"));
        assert_eq!(f.str("zone").unwrap(), Some("Asia/Seoul"));
        assert_eq!(f.bool("lunar").unwrap(), Some(true));
        assert_eq!(f.str("x").unwrap(), Some("a b"));
        assert!(Fields::from_query("a=%zz").is_err());
        assert!(Fields::from_query("a=1&a=2").is_err());
        assert_eq!(Fields::from_query("offset=12x").unwrap().int("offset").unwrap_err(), InputError::field("offset", "must be an integer"));
    }
}

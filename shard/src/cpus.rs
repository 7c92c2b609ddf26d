//! The CPUs this process may run on (its affinity mask), in ascending order.

/// CPU ids in the calling thread's affinity mask; `[0]` if it cannot be read.
pub fn allowed() -> Vec<usize> {
    let mut ids: Vec<usize> = core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        ids.push(0);
    }
    ids
}

/// Parse a CPU list such as `0-3,6,8-9` into ids (sorted, deduplicated).
pub fn parse_list(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let a: usize = a.parse().map_err(|_| format!("bad CPU id {a:?} in {s:?}"))?;
        let b: usize = b.parse().map_err(|_| format!("bad CPU id {b:?} in {s:?}"))?;
        if a > b || b > 4095 {
            return Err(format!("bad CPU range {part:?} in {s:?}"));
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err(format!("empty CPU list {s:?}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_ranges() {
        assert_eq!(parse_list("0-2,5, 7-7").unwrap(), vec![0, 1, 2, 5, 7]);
        assert_eq!(parse_list("3,1,3").unwrap(), vec![1, 3]);
        assert!(parse_list("").is_err());
        assert!(parse_list("2-1").is_err());
        assert!(parse_list("x").is_err());
    }

    #[test]
    fn allowed_is_never_empty() {
        assert!(!allowed().is_empty());
    }
}

//! The part plan of an upload. Parts are numbered 1..N in order and cover the file with
//! half-open byte ranges `[chunk_start, chunk_end)`, contiguous from 0 to `size`, as
//! Polar's own uploader sends them. That uploader cuts 10,000,000-byte chunks and, when
//! the size is an exact multiple, adds a trailing empty part, so an empty part is allowed
//! last (and only last).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::schema::S3FileCreatePart;
use crate::http::{Loc, Validator};
use crate::storage::PlannedPart;

pub const MAX_PARTS: usize = 10_000;
/// S3's largest part.
pub const MAX_PART_SIZE: i64 = 5 * 1024 * 1024 * 1024;

const EXPECTED_FORM: &str = "parts must be numbered 1..N in order and cover the file with \
    half-open byte ranges [chunk_start, chunk_end): the first starts at 0, each starts where \
    the previous ended, the last ends at size, and only the last may be empty";

/// Checks `parts` against `size` and returns the plan, or records why not.
pub fn validate(
    size: i64,
    parts: &[S3FileCreatePart],
    validator: &mut Validator,
) -> Option<Vec<PlannedPart>> {
    let loc = Loc::body().key("upload").key("parts");
    if parts.is_empty() {
        validator.push(
            loc,
            "too_short",
            "List should have at least 1 item after validation, not 0",
            json!([]),
        );
        return None;
    }
    if parts.len() > MAX_PARTS {
        validator.push(
            loc,
            "too_long",
            format!(
                "List should have at most {MAX_PARTS} items after validation, not {}",
                parts.len()
            ),
            Value::Null,
        );
        return None;
    }

    let before = validator.is_empty();
    let mut plan = Vec::with_capacity(parts.len());
    let mut expected_start = 0i64;
    let last = parts.len() - 1;
    for (index, part) in parts.iter().enumerate() {
        let part_loc = loc.index(index);
        let input = json!({"number": part.number, "chunk_start": part.chunk_start, "chunk_end": part.chunk_end});
        let mut fail = |field: &str, msg: String| {
            validator.push(
                part_loc.key(field),
                "value_error",
                format!("{msg}; {EXPECTED_FORM}"),
                input.clone(),
            );
        };
        if part.number != index as i64 + 1 {
            fail(
                "number",
                format!("part {} should be numbered {}", index + 1, index + 1),
            );
        }
        if part.chunk_start != expected_start {
            fail(
                "chunk_start",
                format!("part {} should start at byte {expected_start}", index + 1),
            );
        }
        let len = part.chunk_end - part.chunk_start;
        if len < 0 {
            fail(
                "chunk_end",
                format!("part {} ends before it starts", index + 1),
            );
        } else if len == 0 && (index != last || index == 0) {
            fail("chunk_end", format!("part {} is empty", index + 1));
        } else if len > MAX_PART_SIZE {
            fail(
                "chunk_end",
                format!("part {} is larger than 5 GiB", index + 1),
            );
        }
        if index == last && part.chunk_end != size {
            fail(
                "chunk_end",
                format!("the last part should end at the file's size, {size}"),
            );
        }
        expected_start = part.chunk_end;

        let sha256 = checked_sha256(part.checksum_sha256_base64.as_deref(), part_loc, validator);
        plan.push(PlannedPart {
            number: u32::try_from(part.number).unwrap_or(0),
            start: u64::try_from(part.chunk_start).unwrap_or(0),
            end: u64::try_from(part.chunk_end).unwrap_or(0),
            sha256,
        });
    }
    (before && validator.is_empty()).then_some(plan)
}

/// A 32-byte SHA-256 digest from its standard base64 form.
pub fn decode_sha256(text: &str) -> Option<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    <[u8; 32]>::try_from(bytes.as_slice()).ok()
}

/// A declared `checksum_sha256_base64` (at `loc`), decoded, or a 422 issue when it is not
/// the base64 of a SHA-256 digest. `None` when none was declared.
pub fn checked_sha256(text: Option<&str>, loc: Loc, validator: &mut Validator) -> Option<[u8; 32]> {
    let text = text?;
    let digest = decode_sha256(text);
    if digest.is_none() {
        validator.push(
            loc.key("checksum_sha256_base64"),
            "value_error",
            "Value should be the base64 encoding of a 32-byte SHA-256 digest",
            Value::String(text.to_owned()),
        );
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(ranges: &[(i64, i64, i64)]) -> Vec<S3FileCreatePart> {
        ranges
            .iter()
            .map(|&(number, chunk_start, chunk_end)| S3FileCreatePart {
                number,
                chunk_start,
                chunk_end,
                checksum_sha256_base64: None,
            })
            .collect()
    }

    fn check(size: i64, ranges: &[(i64, i64, i64)]) -> Result<Vec<PlannedPart>, String> {
        let mut validator = Validator::new();
        let plan = validate(size, &parts(ranges), &mut validator);
        match validator.finish() {
            Ok(()) => plan.ok_or_else(|| "no plan".to_owned()),
            Err(e) => Err(format!("{e:?}")),
        }
    }

    #[test]
    fn polars_uploader_chunks_are_accepted() {
        let plan = check(
            25_000_000,
            &[
                (1, 0, 10_000_000),
                (2, 10_000_000, 20_000_000),
                (3, 20_000_000, 25_000_000),
            ],
        )
        .unwrap();
        assert_eq!(plan.len(), 3);
        assert_eq!((plan[2].start, plan[2].end), (20_000_000, 25_000_000));
        // An exact multiple of the chunk size ends with an empty part.
        assert!(
            check(
                20_000_000,
                &[
                    (1, 0, 10_000_000),
                    (2, 10_000_000, 20_000_000),
                    (3, 20_000_000, 20_000_000)
                ]
            )
            .is_ok()
        );
        assert!(check(5, &[(1, 0, 5)]).is_ok());
    }

    #[test]
    fn gaps_overlaps_and_wrong_ends_are_refused() {
        assert!(check(10, &[(1, 0, 4), (2, 5, 10)]).is_err(), "gap");
        assert!(check(10, &[(1, 0, 5), (2, 4, 10)]).is_err(), "overlap");
        assert!(check(10, &[(1, 1, 10)]).is_err(), "not from 0");
        assert!(check(10, &[(1, 0, 9)]).is_err(), "short of size");
        assert!(check(10, &[(1, 0, 11)]).is_err(), "past size");
        assert!(check(10, &[(1, 0, 9), (2, 9, 10)]).is_ok());
        // Inclusive ends (Polar's old form) are named as such.
        let err = check(10, &[(1, 0, 4), (2, 5, 9)]).unwrap_err();
        assert!(err.contains("half-open"), "{err}");
    }

    #[test]
    fn numbering_must_be_1_to_n_in_order() {
        assert!(check(10, &[(2, 0, 10)]).is_err());
        assert!(check(10, &[(2, 0, 5), (1, 5, 10)]).is_err());
        assert!(check(10, &[(1, 0, 5), (1, 5, 10)]).is_err());
    }

    #[test]
    fn empty_parts_only_trail() {
        assert!(check(10, &[(1, 0, 0), (2, 0, 10)]).is_err());
        assert!(check(10, &[(1, 0, 10), (2, 10, 10), (3, 10, 10)]).is_err());
        assert!(check(0, &[(1, 0, 0)]).is_err());
    }

    #[test]
    fn limits_and_checksums() {
        assert!(check(10, &[]).is_err());
        let many: Vec<(i64, i64, i64)> = (0..10_001).map(|i| (i + 1, i, i + 1)).collect();
        assert!(check(10_001, &many).is_err());
        let most: Vec<(i64, i64, i64)> = (0..10_000).map(|i| (i + 1, i, i + 1)).collect();
        assert!(check(10_000, &most).is_ok());
        assert!(check(MAX_PART_SIZE + 1, &[(1, 0, MAX_PART_SIZE + 1)]).is_err());
        let mut with_bad_sum = parts(&[(1, 0, 10)]);
        with_bad_sum[0].checksum_sha256_base64 = Some("bm90IGEgZGlnZXN0".to_owned());
        let mut validator = Validator::new();
        assert!(validate(10, &with_bad_sum, &mut validator).is_none());
        assert!(!validator.is_empty());
    }
}

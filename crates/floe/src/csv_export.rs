//! Writing CSV exports the way Polar writes them: one row at a time, amounts as Python
//! prints Polar's floats, datetimes as `isoformat()` in the export's zone, and typed text
//! that cannot turn into a spreadsheet formula.

use axum::body::Bytes;
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;

use crate::http::{ApiError, ApiResult};

pub fn csv_row(cells: impl IntoIterator<Item = String>) -> ApiResult<Bytes> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(cells)
        .map_err(|e| ApiError::internal(anyhow::Error::from(e)))?;
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))
}

/// Text someone typed, made harmless for spreadsheets: a cell that starts like a formula
/// gets a leading `'`, so that opening the export cannot run it.
pub fn text(value: Option<&str>) -> String {
    let value = value.unwrap_or_default();
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// Python's `datetime.isoformat()` in `tz`, as Polar writes it: microseconds only when
/// there are some, and the offset as `+HH:MM`.
pub fn iso_datetime(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let micros = local.nanosecond() / 1_000 % 1_000_000;
    let fraction = if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}")
    };
    format!(
        "{}{fraction}{}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        local.format("%:z")
    )
}

/// An amount in the currency's major unit, written as Python writes the float Polar puts
/// there (`19.0`, `19.5`, `19.99`), from the integer so that nothing is rounded; a
/// zero-decimal currency (JPY) is not divided.
pub fn major_units(amount: i64, currency: &str) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let factor = crate::money::minor_units_per_major(currency).unsigned_abs();
    let whole = amount.unsigned_abs() / factor;
    let fraction = amount.unsigned_abs() % factor;
    if factor == 1 || fraction == 0 {
        format!("{sign}{whole}.0")
    } else if fraction.is_multiple_of(10) {
        format!("{sign}{whole}.{}", fraction / 10)
    } else {
        format!("{sign}{whole}.{fraction:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_like_polars() {
        assert_eq!(major_units(1900, "usd"), "19.0");
        assert_eq!(major_units(1950, "usd"), "19.5");
        assert_eq!(major_units(1999, "eur"), "19.99");
        assert_eq!(major_units(5, "usd"), "0.05");
        assert_eq!(major_units(0, "usd"), "0.0");
        assert_eq!(major_units(-250, "usd"), "-2.5");
        assert_eq!(major_units(80, "jpy"), "80.0");
    }

    #[test]
    fn typed_text_cannot_become_a_formula() {
        assert_eq!(text(Some("=HYPERLINK(1)")), "'=HYPERLINK(1)");
        assert_eq!(text(Some("Zoë")), "Zoë");
        assert_eq!(text(None), "");
    }
}

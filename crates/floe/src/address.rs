//! Postal addresses (`AddressInput` in, `Address` out) and tax IDs, shared by customers and,
//! later, checkouts and orders.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::{Loc, Validator};

/// Countries the spec's `AddressInput` accepts (ISO 3166-1 alpha-2; sanctioned ones are
/// absent there, so a customer can never be given one).
const INPUT_COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IS IT JE JM JO JP KE KG KH KI KM KN KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// `AddressInput` and `Address`: the same fields.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Address {
    #[serde(default)]
    pub line1: Option<String>,
    #[serde(default)]
    pub line2: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    pub country: String,
}

/// Whether `code` is a country the spec's `AddressInput` accepts.
pub fn is_input_country(code: &str) -> bool {
    code.len() == 2 && INPUT_COUNTRIES.split(' ').any(|c| c == code)
}

impl Address {
    /// Checks the country against the spec's list.
    pub fn check(&self, loc: &Loc, validator: &mut Validator) {
        if !is_input_country(&self.country) {
            validator.push(
                loc.key("country"),
                "enum",
                "Input should be an ISO 3166-1 alpha-2 country code",
                json!(self.country),
            );
        }
    }
}

const EU_COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The tax ID format (a `TaxIDFormat` value) a business in `country` uses, for the
/// countries floe recognises. floe does not check the number's own checksum: it records
/// what the customer gave, normalised, with the format its country implies.
fn tax_id_format(country: &str) -> Option<&'static str> {
    if EU_COUNTRIES.contains(&country) {
        return Some("eu_vat");
    }
    Some(match country {
        "GB" => "gb_vat",
        "US" => "us_ein",
        "CA" => "ca_bn",
        "AU" => "au_abn",
        "NZ" => "nz_gst",
        "CH" => "ch_vat",
        "LI" => "li_uid",
        "NO" => "no_vat",
        "IS" => "is_vat",
        "IN" => "in_gst",
        "JP" => "jp_cn",
        "KR" => "kr_brn",
        "SG" => "sg_uen",
        "HK" => "hk_br",
        "TW" => "tw_vat",
        "TH" => "th_vat",
        "MY" => "my_itn",
        "ID" => "id_npwp",
        "PH" => "ph_tin",
        "VN" => "vn_tin",
        "CN" => "cn_tin",
        "AE" => "ae_trn",
        "SA" => "sa_vat",
        "OM" => "om_vat",
        "BH" => "bh_vat",
        "IL" => "il_vat",
        "TR" => "tr_tin",
        "ZA" => "za_vat",
        "NG" => "ng_tin",
        "KE" => "ke_pin",
        "EG" => "eg_tin",
        "MX" => "mx_rfc",
        "BR" => "br_cnpj",
        "AR" => "ar_cuit",
        "CL" => "cl_tin",
        "CO" => "co_nit",
        "PE" => "pe_ruc",
        "UY" => "uy_ruc",
        "EC" => "ec_ruc",
        "UA" => "ua_vat",
        "RS" => "rs_pib",
        "GE" => "ge_vat",
        "KZ" => "kz_bin",
        "MK" => "mk_vat",
        "AD" => "ad_nrt",
        "MU" => "mu_tan",
        _ => return None,
    })
}

/// A tax ID as `[value, format]`, from what a client sent and the billing country.
/// Pushes a 422 issue at `loc` when it cannot be recorded.
pub fn tax_id(
    raw: &str,
    country: Option<&str>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<(String, &'static str)> {
    let value: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '/'))
        .flat_map(char::to_uppercase)
        .collect();
    let Some(country) = country else {
        validator.push(
            loc.clone(),
            "value_error",
            "Country is required to validate tax ID.",
            json!(raw),
        );
        return None;
    };
    if value.len() < 4 || value.len() > 32 || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        validator.push(loc.clone(), "value_error", "Invalid tax ID.", json!(raw));
        return None;
    }
    match tax_id_format(country) {
        Some(format) => Some((value, format)),
        None => {
            validator.push(
                loc.clone(),
                "value_error",
                format!("Tax IDs of {country} are not supported."),
                json!(raw),
            );
            None
        }
    }
}

/// The stored form of a tax ID.
pub fn tax_id_to_text(value: &str, format: &str) -> String {
    json!([value, format]).to_string()
}

/// A stored tax ID as the API shows it.
pub fn tax_id_from_text(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_ids() {
        let mut validator = Validator::new();
        let loc = Loc::body().key("tax_id");
        assert_eq!(
            tax_id("fr 61 954 506 077", Some("FR"), &loc, &mut validator),
            Some(("FR61954506077".to_owned(), "eu_vat"))
        );
        assert_eq!(
            tax_id("91-1144442", Some("US"), &loc, &mut validator),
            Some(("911144442".to_owned(), "us_ein"))
        );
        assert!(validator.is_empty());
        assert_eq!(tax_id("911144442", None, &loc, &mut validator), None);
        assert_eq!(tax_id("x", Some("US"), &loc, &mut validator), None);
        assert_eq!(tax_id("911144442", Some("AQ"), &loc, &mut validator), None);
        assert!(validator.finish().is_err());
    }
}

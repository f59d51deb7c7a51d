//! The properties of each benefit type: their shape, checked field by field with the
//! location of every fault, and kept as the API shows them. What the properties point at
//! (files, a meter) is checked by the service, which has the database.

use base64::Engine;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::schema::BenefitType;
use crate::http::fields::{boolean, integer, object, present, required, text, uuid};
use crate::http::{Loc, Validator};

const INT_MAX: i64 = i32::MAX as i64;
const GITHUB_PERMISSIONS: [&str; 5] = ["pull", "triage", "push", "maintain", "admin"];
const TIMEFRAMES: [&str; 3] = ["year", "month", "day"];

/// Checked properties and the resources they name.
#[derive(Debug, Default)]
pub struct Checked {
    pub properties: Map<String, Value>,
    /// Downloadables: the files, in order.
    pub files: Vec<Uuid>,
    /// Meter credits: the meter.
    pub meter_id: Option<Uuid>,
}

/// `properties` of a benefit of `kind`, checked at `loc`; `None` when something is wrong
/// (the faults are in `validator`).
pub fn check(
    kind: BenefitType,
    value: Option<&Value>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<Checked> {
    let given = match value {
        Some(Value::Object(map)) => map,
        None | Some(Value::Null) => {
            validator.push(loc.clone(), "missing", "Field required", Value::Null);
            return None;
        }
        Some(other) => {
            validator.push(
                loc.clone(),
                "model_type",
                "Input should be a valid dictionary or object",
                other.clone(),
            );
            return None;
        }
    };
    let before = validator.len();
    let mut checked = Checked::default();
    let kept = &mut checked.properties;
    match kind {
        BenefitType::Custom => {
            let note = text(given, "note", (0, usize::MAX), loc, validator);
            kept.insert("note".to_owned(), json!(note));
        }
        BenefitType::FeatureFlag => {}
        BenefitType::LicenseKeys => license_keys(given, loc, validator, kept),
        BenefitType::Downloadables => {
            checked.files = downloadables(given, loc, validator, kept);
        }
        BenefitType::MeterCredit => {
            let units = required(given, "units", loc, validator)
                .and_then(|_| integer(given, "units", 1, INT_MAX, loc, validator));
            let rollover = required(given, "rollover", loc, validator)
                .and_then(|_| boolean(given, "rollover", loc, validator));
            let meter_id = required(given, "meter_id", loc, validator)
                .and_then(|value| uuid(value, &loc.key("meter_id"), validator));
            checked.meter_id = meter_id;
            kept.insert("units".to_owned(), json!(units));
            kept.insert("rollover".to_owned(), json!(rollover));
            kept.insert("meter_id".to_owned(), json!(meter_id));
        }
        BenefitType::Discord => discord(given, loc, validator, kept),
        BenefitType::GithubRepository => {
            for name in ["repository_owner", "repository_name"] {
                let value = required(given, name, loc, validator)
                    .and_then(|_| text(given, name, (1, 100), loc, validator));
                kept.insert(name.to_owned(), json!(value));
            }
            let permission = required(given, "permission", loc, validator).and_then(|value| {
                let found = value.as_str().filter(|p| GITHUB_PERMISSIONS.contains(p));
                if found.is_none() {
                    validator.push(
                        loc.key("permission"),
                        "enum",
                        "Input should be 'pull', 'triage', 'push', 'maintain' or 'admin'",
                        value.clone(),
                    );
                }
                found
            });
            kept.insert("permission".to_owned(), json!(permission));
        }
        BenefitType::SlackSharedChannel => slack(given, loc, validator, kept),
    }
    (validator.len() == before).then_some(checked)
}

fn license_keys(
    given: &Map<String, Value>,
    loc: &Loc,
    validator: &mut Validator,
    kept: &mut Map<String, Value>,
) {
    let prefix = text(given, "prefix", (0, 64), loc, validator);
    let expires = object(given, "expires", loc, validator).map(|expires| {
        let loc = loc.key("expires");
        let ttl = required(expires, "ttl", &loc, validator)
            .and_then(|_| integer(expires, "ttl", 1, INT_MAX, &loc, validator));
        let timeframe = required(expires, "timeframe", &loc, validator).and_then(|value| {
            let found = value.as_str().filter(|t| TIMEFRAMES.contains(t));
            if found.is_none() {
                validator.push(
                    loc.key("timeframe"),
                    "enum",
                    "Input should be 'year', 'month' or 'day'",
                    value.clone(),
                );
            }
            found
        });
        json!({"ttl": ttl, "timeframe": timeframe})
    });
    let activations = object(given, "activations", loc, validator).map(|activations| {
        let loc = loc.key("activations");
        let limit = required(activations, "limit", &loc, validator)
            .and_then(|_| integer(activations, "limit", 1, INT_MAX, &loc, validator));
        let admin = required(activations, "enable_customer_admin", &loc, validator)
            .and_then(|_| boolean(activations, "enable_customer_admin", &loc, validator));
        json!({"limit": limit, "enable_customer_admin": admin})
    });
    let limit_usage = integer(given, "limit_usage", 1, INT_MAX, loc, validator);
    kept.insert("prefix".to_owned(), json!(prefix));
    kept.insert("expires".to_owned(), expires.unwrap_or(Value::Null));
    kept.insert("activations".to_owned(), activations.unwrap_or(Value::Null));
    kept.insert("limit_usage".to_owned(), json!(limit_usage));
}

/// Files in order (at least one, no repeats) and which of them are archived (hidden from
/// buyers who did not get them yet).
fn downloadables(
    given: &Map<String, Value>,
    loc: &Loc,
    validator: &mut Validator,
    kept: &mut Map<String, Value>,
) -> Vec<Uuid> {
    let mut files = Vec::new();
    match required(given, "files", loc, validator) {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                let item_loc = loc.key("files").index(index);
                if let Some(id) = uuid(item, &item_loc, validator) {
                    if files.contains(&id) {
                        validator.push(
                            item_loc,
                            "value_error",
                            "A file is listed once.",
                            item.clone(),
                        );
                    } else {
                        files.push(id);
                    }
                }
            }
        }
        Some(Value::Array(_)) => validator.push(
            loc.key("files"),
            "too_short",
            "List should have at least 1 item after validation, not 0",
            json!([]),
        ),
        Some(other) => validator.push(
            loc.key("files"),
            "list_type",
            "Input should be a valid list",
            other.clone(),
        ),
        None => {}
    }
    let mut archived = Map::new();
    if let Some(given) = object(given, "archived", loc, validator) {
        for (key, value) in given {
            let key_loc = loc.key("archived").key(key);
            let Some(id) = crate::http::extract::parse_uuid(key) else {
                validator.push(
                    key_loc.key("[key]"),
                    "uuid_parsing",
                    "Input should be a valid UUID",
                    json!(key),
                );
                continue;
            };
            match value.as_bool() {
                Some(flag) => {
                    archived.insert(id.to_string(), json!(flag));
                }
                None => validator.push(
                    key_loc,
                    "bool_type",
                    "Input should be a valid boolean",
                    value.clone(),
                ),
            }
        }
    }
    kept.insert("archived".to_owned(), Value::Object(archived));
    kept.insert(
        "files".to_owned(),
        json!(files.iter().map(Uuid::to_string).collect::<Vec<_>>()),
    );
    files
}

/// Polar's Discord benefits carry a guild token its Discord bot signed, whose claims name
/// the guild; floe reads the guild from the token's claims (it has no bot to ask). The
/// benefit is stored, but granting it needs an integration floe does not have.
fn discord(
    given: &Map<String, Value>,
    loc: &Loc,
    validator: &mut Validator,
    kept: &mut Map<String, Value>,
) {
    let token = required(given, "guild_token", loc, validator)
        .and_then(|_| text(given, "guild_token", (1, 4096), loc, validator));
    let guild_id = token.as_deref().and_then(|token| {
        let guild = guild_of(token);
        if guild.is_none() {
            validator.push(
                loc.key("guild_token"),
                "value_error",
                "The guild token does not name a Discord guild.",
                json!(token),
            );
        }
        guild
    });
    let role_id = required(given, "role_id", loc, validator)
        .and_then(|_| text(given, "role_id", (1, 64), loc, validator));
    let kick = required(given, "kick_member", loc, validator)
        .and_then(|_| boolean(given, "kick_member", loc, validator));
    kept.insert("guild_id".to_owned(), json!(guild_id));
    kept.insert("role_id".to_owned(), json!(role_id));
    kept.insert("kick_member".to_owned(), json!(kick));
    kept.insert("guild_token".to_owned(), json!(token));
}

/// The `guild_id` claim of a JWT's payload.
fn guild_of(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("guild_id")
        .and_then(Value::as_str)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
}

fn slack(
    given: &Map<String, Value>,
    loc: &Loc,
    validator: &mut Validator,
    kept: &mut Map<String, Value>,
) {
    let integration = required(given, "slack_integration_id", loc, validator)
        .and_then(|value| uuid(value, &loc.key("slack_integration_id"), validator));
    let template = required(given, "channel_name_template", loc, validator)
        .and_then(|_| text(given, "channel_name_template", (1, 80), loc, validator));
    let private = boolean(given, "private", loc, validator).unwrap_or(true);
    let welcome = text(given, "welcome_message", (0, 4000), loc, validator);
    let archive = boolean(given, "archive_on_revoke", loc, validator).unwrap_or(true);
    let mut invitees = Vec::new();
    if let Some(value) = present(given, "team_invitees") {
        match value.as_array() {
            Some(items) => {
                for (index, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(invitee) => invitees.push(json!(invitee)),
                        None => validator.push(
                            loc.key("team_invitees").index(index),
                            "string_type",
                            "Input should be a valid string",
                            item.clone(),
                        ),
                    }
                }
            }
            None => validator.push(
                loc.key("team_invitees"),
                "list_type",
                "Input should be a valid list",
                value.clone(),
            ),
        }
    }
    kept.insert("slack_integration_id".to_owned(), json!(integration));
    kept.insert("channel_name_template".to_owned(), json!(template));
    kept.insert("private".to_owned(), json!(private));
    kept.insert("welcome_message".to_owned(), json!(welcome));
    kept.insert("archive_on_revoke".to_owned(), json!(archive));
    kept.insert("team_invitees".to_owned(), Value::Array(invitees));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: BenefitType, properties: Value) -> Result<Value, Vec<String>> {
        let mut validator = Validator::new();
        let checked = check(
            kind,
            Some(&properties),
            &Loc::body().key("properties"),
            &mut validator,
        );
        match validator.finish() {
            Ok(()) => Ok(Value::Object(checked.expect("checked").properties)),
            Err(crate::http::ApiError::Validation(issues)) => Err(issues
                .iter()
                .map(|issue| format!("{}:{}", issue.loc, issue.kind))
                .collect()),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn license_keys_are_kept_whole() {
        assert_eq!(
            run(
                BenefitType::LicenseKeys,
                json!({"prefix": "ACME", "expires": {"ttl": 1, "timeframe": "year"}})
            ),
            Ok(
                json!({"prefix": "ACME", "expires": {"ttl": 1, "timeframe": "year"}, "activations": null, "limit_usage": null})
            )
        );
        assert_eq!(
            run(
                BenefitType::LicenseKeys,
                json!({"expires": {"ttl": 0, "timeframe": "week"}, "activations": {"limit": 3}})
            ),
            Err(vec![
                "body.properties.expires.ttl:greater_than_equal".to_owned(),
                "body.properties.expires.timeframe:enum".to_owned(),
                "body.properties.activations.enable_customer_admin:missing".to_owned(),
            ])
        );
    }

    #[test]
    fn downloadables_list_their_files_once() {
        let a = Uuid::new_v4();
        assert_eq!(
            run(
                BenefitType::Downloadables,
                json!({"files": [a.to_string(), a.to_string()]})
            ),
            Err(vec!["body.properties.files.1:value_error".to_owned()])
        );
        assert_eq!(
            run(BenefitType::Downloadables, json!({"files": []})),
            Err(vec!["body.properties.files:too_short".to_owned()])
        );
        assert_eq!(
            run(
                BenefitType::Downloadables,
                json!({"files": [a.to_string()], "archived": {a.to_string(): true}})
            ),
            Ok(json!({"files": [a.to_string()], "archived": {a.to_string(): true}}))
        );
    }

    #[test]
    fn discord_guilds_come_from_the_token() {
        let claims =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"guild_id":"42"}"#);
        let token = format!("e30.{claims}.sig");
        assert_eq!(
            run(
                BenefitType::Discord,
                json!({"guild_token": token, "role_id": "7", "kick_member": false})
            ),
            Ok(
                json!({"guild_id": "42", "role_id": "7", "kick_member": false, "guild_token": token})
            )
        );
        assert_eq!(
            run(
                BenefitType::Discord,
                json!({"guild_token": "nope", "role_id": "7", "kick_member": false})
            ),
            Err(vec!["body.properties.guild_token:value_error".to_owned()])
        );
    }

    #[test]
    fn meter_credits_need_everything() {
        assert_eq!(
            run(BenefitType::MeterCredit, json!({"units": 0})),
            Err(vec![
                "body.properties.units:greater_than_equal".to_owned(),
                "body.properties.rollover:missing".to_owned(),
                "body.properties.meter_id:missing".to_owned(),
            ])
        );
    }
}

//! Rules for organizations: what a valid name and slug are.

use sea_orm::DatabaseConnection;
use serde_json::Value;
use uuid::Uuid;

use super::entity::Model;
use super::schema::{Organization, OrganizationUpdate, Settings};
use super::store;
use crate::app::AppState;
use crate::clock::Clock;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::webhooks::{self, EventType};

/// Creates an organization. The slug is lowercase letters, digits and single hyphens,
/// 3 to 64 characters, and unique.
pub async fn create(
    db: &DatabaseConnection,
    clock: &Clock,
    name: &str,
    slug: &str,
) -> ApiResult<Organization> {
    let mut validator = Validator::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 256 {
        validator.push(
            Loc::body().key("name"),
            "string_too_short",
            "The name must be 1 to 256 characters",
            Value::String(name.to_owned()),
        );
    }
    if !is_valid_slug(slug) {
        validator.push(
            Loc::body().key("slug"),
            "string_pattern_mismatch",
            "The slug must be 3 to 64 lowercase letters, digits and single hyphens",
            Value::String(slug.to_owned()),
        );
    }
    validator.finish()?;
    let row = store::insert(
        db,
        Model {
            id: Uuid::new_v4(),
            created_at: clock.now(),
            modified_at: None,
            name: name.to_owned(),
            slug: slug.to_owned(),
            avatar_url: None,
            email: None,
            website: None,
            settings: "{}".to_owned(),
        },
    )
    .await
    // The unique index decides, so two concurrent creates cannot both win.
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::ResourceAlreadyExists(
            format!("An organization with the slug {slug:?} already exists."),
        ),
        _ => ApiError::from(e),
    })?;
    Ok(row.into())
}

const CURRENCIES: &str = "aed all amd aoa ars aud awg azn bam bbd bdt bif bmd bnd bob brl bsd bwp bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jpy kes kgs khr kmf krw kyd kzt lak lkr lrd lsl mad mdl mga mkd mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php pkr pln pyg qar ron rsd rwf sar sbd scr sek sgd shp sos srd szl thb tjs top try ttd twd tzs uah ugx usd uyu uzs vnd vuv wst xaf xcd xcg xof xpf yer zar zmw";
const SOCIAL_PLATFORMS: &[&str] = &[
    "x",
    "github",
    "facebook",
    "instagram",
    "youtube",
    "tiktok",
    "linkedin",
    "threads",
    "discord",
    "other",
];
const MAX_URL_CHARS: usize = 2083;

fn check_web_url(url: &str, loc: Loc, validator: &mut Validator) {
    let valid = url.chars().count() <= MAX_URL_CHARS
        && url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !valid {
        validator.push(
            loc,
            "url_parsing",
            "Input should be a valid URL",
            Value::String(url.to_owned()),
        );
    }
}

/// `organizations:update`: changes what the patch gives, and queues `organization.updated`
/// in the same transaction.
pub async fn update(
    app: &AppState,
    visible_to: Uuid,
    id: Uuid,
    patch: OrganizationUpdate,
) -> ApiResult<Organization> {
    let mut validator = Validator::new();
    if let Some(Some(name)) = &patch.name
        && (name.trim().chars().count() < 3 || name.chars().count() > 256)
    {
        validator.push(
            Loc::body().key("name"),
            "string_too_short",
            "The name must be 3 to 256 characters",
            Value::String(name.clone()),
        );
    }
    if let Some(Some(url)) = &patch.avatar_url {
        check_web_url(url, Loc::body().key("avatar_url"), &mut validator);
    }
    if let Some(Some(url)) = &patch.website {
        check_web_url(url, Loc::body().key("website"), &mut validator);
    }
    if let Some(Some(email)) = &patch.email
        && !crate::customers::service::is_email(email)
    {
        validator.push(
            Loc::body().key("email"),
            "value_error",
            "value is not a valid email address",
            Value::String(email.clone()),
        );
    }
    if let Some(Some(socials)) = &patch.socials {
        for (index, link) in socials.iter().enumerate() {
            let loc = Loc::body().key("socials").index(index);
            if !SOCIAL_PLATFORMS.contains(&link.platform.as_str()) {
                validator.push(
                    loc.key("platform"),
                    "enum",
                    format!("Input should be one of {}", SOCIAL_PLATFORMS.join(", ")),
                    Value::String(link.platform.clone()),
                );
            }
            check_web_url(&link.url, loc.key("url"), &mut validator);
        }
    }
    if let Some(Some(country)) = &patch.country
        && !crate::address::is_input_country(country)
    {
        validator.push(
            Loc::body().key("country"),
            "enum",
            "Input should be an ISO 3166-1 alpha-2 country code",
            Value::String(country.clone()),
        );
    }
    if let Some(Some(settings)) = &patch.subscription_settings
        && !["invoice", "prorate", "next_period"].contains(&settings.proration_behavior.as_str())
    {
        validator.push(
            Loc::body()
                .key("subscription_settings")
                .key("proration_behavior"),
            "enum",
            "Input should be 'invoice', 'prorate' or 'next_period'",
            Value::String(settings.proration_behavior.clone()),
        );
    }
    if let Some(Some(dispute)) = &patch.dispute_settings
        && let Some(Some(amount)) = dispute.auto_accept_below_amount
        && !(1..=10_000).contains(&amount)
    {
        validator.push(
            Loc::body()
                .key("dispute_settings")
                .key("auto_accept_below_amount"),
            "less_than_equal",
            "Input should be between 1 and 10000",
            Value::from(amount),
        );
    }
    if let Some(Some(currency)) = &patch.default_presentment_currency
        && !CURRENCIES.split(' ').any(|c| c == currency)
    {
        validator.push(
            Loc::body().key("default_presentment_currency"),
            "enum",
            "Input should be a supported presentment currency",
            Value::String(currency.clone()),
        );
    }
    if let Some(Some(behavior)) = &patch.default_tax_behavior
        && !["location", "inclusive", "exclusive"].contains(&behavior.as_str())
    {
        validator.push(
            Loc::body().key("default_tax_behavior"),
            "enum",
            "Input should be 'location', 'inclusive' or 'exclusive'",
            Value::String(behavior.clone()),
        );
    }
    if let Some(Some(hosts)) = &patch.embed_hosts
        && hosts.len() > 50
    {
        validator.push(
            Loc::body().key("embed_hosts"),
            "too_long",
            "List should have at most 50 items",
            Value::Null,
        );
    }
    validator.finish()?;

    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get_visible_in(&txn, visible_to, id)
        .await?
        .ok_or_else(|| ApiError::ResourceNotFound("Organization not found.".to_owned()))?;
    let mut settings = Settings::parse(&row.settings);
    // Compared in their normal form, so a patch that changes nothing writes nothing.
    row.settings = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    let before = row.clone();
    if let Some(Some(name)) = patch.name {
        row.name = name.trim().to_owned();
    }
    if let Some(avatar_url) = patch.avatar_url {
        row.avatar_url = avatar_url;
    }
    if let Some(email) = patch.email {
        row.email = email;
    }
    if let Some(website) = patch.website {
        row.website = website;
    }
    if let Some(socials) = patch.socials {
        settings.socials = socials.unwrap_or_default();
    }
    if let Some(details) = patch.details {
        settings.details = details;
    }
    if let Some(country) = patch.country {
        settings.country = country;
    }
    if let Some(Some(features)) = patch.feature_settings {
        let current = &mut settings.feature_settings;
        if let Some(v) = features.seat_based_pricing_enabled {
            current.seat_based_pricing_enabled = v;
        }
        if let Some(v) = features.member_model_enabled {
            current.member_model_enabled = v;
        }
        if let Some(v) = features.checkout_localization_enabled {
            current.checkout_localization_enabled = v;
        }
        if let Some(v) = features.overview_metrics {
            current.overview_metrics = v;
        }
    }
    if let Some(Some(subscription)) = patch.subscription_settings {
        settings.subscription_settings = Some(subscription);
    }
    if let Some(Some(emails)) = patch.customer_email_settings {
        settings.customer_email_settings = Some(emails);
    }
    if let Some(Some(portal)) = patch.customer_portal_settings {
        settings.customer_portal_settings = Some(portal);
    }
    if let Some(Some(dispute)) = patch.dispute_settings
        && let Some(amount) = dispute.auto_accept_below_amount
    {
        settings.dispute_auto_accept_below_amount = amount;
    }
    if let Some(hosts) = patch.embed_hosts {
        settings.embed_hosts = hosts.unwrap_or_default();
    }
    if let Some(Some(currency)) = patch.default_presentment_currency {
        settings.default_presentment_currency = Some(currency);
    }
    if let Some(Some(behavior)) = patch.default_tax_behavior {
        settings.default_tax_behavior = Some(behavior);
    }
    if let Some(Some(sso)) = patch.sso_enforced {
        settings.sso_enforced = sso;
    }
    row.settings = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    if row == before {
        return Ok(row.into());
    }
    row.modified_at = Some(now);
    let row = store::update(&txn, row).await?;
    let organization = Organization::from(row);
    let queued =
        webhooks::emit(&txn, id, EventType::OrganizationUpdated, &organization, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(organization)
}

fn is_valid_slug(slug: &str) -> bool {
    (3..=64).contains(&slug.len())
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Turns a feature the operator controls on or off (those an organization cannot change
/// through the API, such as `off_session_charges_enabled`). Unknown names are refused.
pub async fn set_feature(
    db: &DatabaseConnection,
    clock: &Clock,
    key: &str,
    name: &str,
    enabled: bool,
) -> anyhow::Result<Organization> {
    change_settings(db, clock, key, |settings| {
        let mut features = serde_json::to_value(&settings.feature_settings)?;
        match features.get_mut(name) {
            Some(flag @ Value::Bool(_)) => *flag = Value::Bool(enabled),
            _ => anyhow::bail!("no such on/off feature: {name}"),
        }
        settings.feature_settings = serde_json::from_value(features)?;
        Ok(())
    })
    .await
}

/// Changes the settings of organization `key` (slug or ID) with `change`, as the operator.
async fn change_settings(
    db: &DatabaseConnection,
    clock: &Clock,
    key: &str,
    change: impl FnOnce(&mut Settings) -> anyhow::Result<()>,
) -> anyhow::Result<Organization> {
    let mut row = store::find_by_slug_or_id(db, key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no organization {key}"))?;
    let mut settings = Settings::parse(&row.settings);
    change(&mut settings)?;
    row.settings = serde_json::to_string(&settings)?;
    row.modified_at = Some(clock.now());
    let row = store::update(db, row).await?;
    Ok(Organization::from(row))
}

/// Sets the days between a failed subscription charge and each retry (`None`: back to
/// Polar's schedule). At most 10 retries, each 1 to 60 days after the one before.
pub async fn set_dunning(
    db: &DatabaseConnection,
    clock: &Clock,
    key: &str,
    retry_days: Option<Vec<i64>>,
) -> anyhow::Result<Organization> {
    if let Some(days) = &retry_days
        && (days.is_empty() || days.len() > 10 || days.iter().any(|d| !(1..=60).contains(d)))
    {
        anyhow::bail!("retry days: 1 to 10 numbers, each from 1 to 60");
    }
    change_settings(db, clock, key, |settings| {
        settings.dunning_retry_days = retry_days;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::is_valid_slug;

    #[test]
    fn slugs() {
        assert!(is_valid_slug("acme"));
        assert!(is_valid_slug("acme-2"));
        assert!(!is_valid_slug("ac"));
        assert!(!is_valid_slug("Acme"));
        assert!(!is_valid_slug("acme--x"));
        assert!(!is_valid_slug("-acme"));
        assert!(!is_valid_slug("ac me"));
    }
}

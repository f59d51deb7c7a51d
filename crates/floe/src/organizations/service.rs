//! Rules for organizations: what a valid name and slug are.

use sea_orm::DatabaseConnection;
use serde_json::Value;
use uuid::Uuid;

use super::entity::Model;
use super::schema::Organization;
use super::store;
use crate::clock::Clock;
use crate::http::{ApiError, ApiResult, Loc, Validator};

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

fn is_valid_slug(slug: &str) -> bool {
    (3..=64).contains(&slug.len())
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
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
